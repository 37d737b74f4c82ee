"""Transformer encoder throughput (sentences/s, docs/s) and the CPU/GPU agreement of its vectors.

Usage: python benchmarks/encoder.py [TEXT_DIR] [--model-dir DIR] [--random-init CONFIG_DIR]
       [--devices cpu cuda] [--limit N] [--batch-size 32]

Encodes every `*.txt` under TEXT_DIR (default: CodiEsp dev, English: 250 real case reports) with
`nlp_engine.embeddings.TransformerEncoder` on each device asked for (a device that is not there is
reported, not faked), and prints one JSON object: per device sentences/s, docs/s, words/s and chunks,
and the largest absolute difference between the devices' vectors. `--random-init CONFIG_DIR` builds
the model from a config with random weights (same architecture and cost, for a machine that has no
copy of the weights); it then saves it to a temporary folder and encodes with that.

On a machine without spaCy (a bare GPU machine), the encoder module is loaded on its own: it needs
only torch, transformers and numpy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import import_without_spacy  # noqa: E402


def encoder_class() -> Any:
    import_without_spacy()
    from nlp_engine.embeddings.transformer import TransformerEncoder

    return TransformerEncoder


def random_model(config_dir: Path) -> Path:
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    out = Path(tempfile.mkdtemp()) / "model"
    config = AutoConfig.from_pretrained(str(config_dir), local_files_only=True)
    import torch

    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(config_dir), local_files_only=True).save_pretrained(str(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "texts", nargs="?", default=str(ROOT.parent / "shared/data/codiesp/dev/text_files_en")
    )
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--random-init", default=None)
    parser.add_argument("--devices", nargs="*", default=["cpu", "cuda"])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    import numpy as np
    import torch

    files = sorted(Path(args.texts).glob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    texts = [f.read_text(encoding="utf-8") for f in files]
    words = sum(len(t.split()) for t in texts)
    model_dir = random_model(Path(args.random_init)) if args.random_init else args.model_dir
    Encoder = encoder_class()
    result: dict[str, Any] = {
        "benchmark": "encoder",
        "data": f"{len(texts)} documents from {args.texts}, {words} words",
        "model": "random weights, config of " + args.random_init
        if args.random_init
        else str(model_dir or "bundled MiniLM"),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
        "devices": {},
    }
    vectors = {}
    for device in args.devices:
        if device.startswith("cuda") and not torch.cuda.is_available():
            result["devices"][device] = "not available on this machine"
            continue
        encoder = Encoder(model_dir, device=device, batch_size=args.batch_size)
        encoder.encode(texts[:4])  # load and warm up
        encoder.stats.update(texts=0, sentences=0, chunks=0, seconds=0.0)
        encoder._memory.clear()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        vectors[device] = encoder.encode(texts)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        result["devices"][device] = {
            "device_used": encoder.device,
            "sentences_per_s": round(encoder.stats["sentences"] / elapsed, 1),
            "docs_per_s": round(len(texts) / elapsed, 1),
            "words_per_s": round(words / elapsed),
            "chunks": encoder.stats["chunks"],
            "seconds": round(elapsed, 2),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)
            if device.startswith("cuda")
            else None,
        }
    if len(vectors) == 2:
        a, b = vectors.values()
        result["max_abs_difference_between_devices"] = float(np.abs(a - b).max())
        result["min_cosine_between_devices"] = float(np.min(np.sum(a * b, axis=1)))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
