"""Assembling pipelines from `pipelines/*.cfg` and turning spaCy Docs into the result model."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Config

from . import __version__
from .components import concepts, context, sections, sentences, tokenizer  # noqa: F401 - registers factories
from .errors import NotTextError, UnknownPipelineError
from .results import Assertion, CodeCandidate, Concept, Document, Section, Sentence
from .textio import MAX_CHARS, coerce_text

if TYPE_CHECKING:
    from .parallel import DocumentFailure


def available_pipelines() -> list[str]:
    """Names of the pipeline configs shipped in `pipelines/`."""
    root = resources.files("pipelines")
    return sorted(p.name[: -len(".cfg")] for p in root.iterdir() if p.name.endswith(".cfg"))


_PATHOLOGY_MARKERS = re.compile(
    r"(?im)^[ \t]*(?:surgical pathology|final (?:pathologic(?:al)? )?diagnos[ie]s|gross (?:description|examination)"
    r"|microscopic (?:description|examination)|synoptic report|cancer case summary)\b"
)


def choose_pipeline(text: str) -> str:
    """`"pathology"` for text that looks like a surgical pathology report, else `"clinical"`.

    Used by `--pipeline auto`: a report counts as pathology when a pathology section header stands at
    the start of a line in its first 20,000 characters.
    """
    return "pathology" if _PATHOLOGY_MARKERS.search(text[:20_000]) else "clinical"


def load(name: str = "clinical") -> Language:
    """Build a fresh pipeline from `pipelines/<name>.cfg`, or load a saved one from a directory.

    Saved pipelines (`nlp.to_disk(path)`) carry their own rules and term index; `spacy.load(path)`
    works on them too, without importing nlp_engine first.
    """
    path = Path(name)
    if path.is_dir():
        nlp = spacy.load(path)
    else:
        if name not in available_pipelines():
            raise UnknownPipelineError(
                f"no pipeline named {name!r}; available: {available_pipelines()} or a saved pipeline directory"
            )
        config = Config().from_str(
            resources.files("pipelines").joinpath(f"{name}.cfg").read_text(encoding="utf-8")
        )
        nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
        nlp.initialize()
        nlp.meta.update({"name": name, "version": __version__, "description": f"nlp_engine {name} pipeline"})
    nlp.max_length = MAX_CHARS
    return nlp


@functools.lru_cache(maxsize=8)
def _cached(name: str) -> Language:
    return load(name)


def get_pipeline(pipeline: str | Language) -> tuple[Language, str]:
    """A pipeline object and its name, loading (once per process) by name when needed."""
    if isinstance(pipeline, Language):
        return pipeline, str(pipeline.meta.get("name", "custom"))
    return _cached(pipeline), pipeline


def preload(pipeline: str | Language) -> str | Language:
    """Load what `pipeline` needs once, in this process (so forked workers share it); returns what to
    hand to the workers: `"auto"` itself, or the loaded `Language`."""
    if pipeline == "auto":
        for name in ("clinical", "pathology"):
            get_pipeline(name)
        return "auto"
    return get_pipeline(pipeline)[0]


def doc_to_result(
    doc: Doc, doc_id: str, pipeline: str, text: str | None = None, metadata: dict[str, Any] | None = None
) -> Document:
    """Convert a processed Doc into the result model (offsets into `text`, which defaults to doc.text).

    A Doc de-identified by its tokenizer (`clinical_deid`) reports offsets into its own, de-identified
    text, which the result then carries in `metadata["deid"]["text"]` with the PHI counts."""
    metadata = dict(metadata or {})
    deid = doc._.deid if Doc.has_extension("deid") else None
    if deid is not None:
        text = None
        metadata["deid"] = {**deid, "text": doc.text}
    source = doc.text if text is None else text
    group = doc.spans.get(sections.SPANS_KEY, [])
    titles = doc.spans.get(sections.TITLE_KEY, [])
    starts = [s.start for s in group]

    def section_at(token_i: int) -> str | None:
        k = bisect.bisect_right(starts, token_i) - 1
        return group[k].label_ if k >= 0 else None

    out_sections = [
        Section(
            name=span.label_,
            title=source[span.start_char : title.end_char].strip().rstrip(":").strip(),
            start=span.start_char,
            end=span.end_char,
            body_start=title.end_char,
        )
        for span, title in zip(group, titles, strict=False)
    ]
    out_sentences: list[Sentence] = []
    sent_token_starts: list[int] = []
    if doc.has_annotation("SENT_START"):
        for sent in doc.sents:
            words = [t for t in sent if not t.is_space]
            if not words:
                continue
            start, end = words[0].idx, words[-1].idx + len(words[-1].text)
            out_sentences.append(Sentence(start=start, end=end, section=section_at(words[0].i)))
            sent_token_starts.append(words[0].i)
    out_concepts = []
    for ent in doc.ents:
        codes = [
            CodeCandidate(code=c["code"], title=c["title"], score=float(c["score"]), matched_term=c["term"])
            for c in ent._.codes
        ]
        assertion = Assertion(
            negated=bool(ent._.negated),
            uncertain=bool(ent._.uncertain),
            historical=bool(ent._.historical),
            hypothetical=bool(ent._.hypothetical),
            experiencer=ent._.experiencer,
            triggers=list(ent._.context_triggers),
        )
        out_concepts.append(
            Concept(
                text=source[ent.start_char : ent.end_char],
                start=ent.start_char,
                end=ent.end_char,
                label=ent.label_,
                code=ent.kb_id_ or None,
                codes=codes,
                assertion=assertion,
                section=section_at(ent.start),
                sentence_index=max(0, bisect.bisect_right(sent_token_starts, ent.start) - 1),
            )
        )
    return Document(
        id=doc_id,
        text_length=len(source),
        pipeline=pipeline,
        sections=out_sections,
        sentences=out_sentences,
        concepts=out_concepts,
        metadata=metadata,
    )


@overload
def process(  # type: ignore[overload-overlap]  # a str is also an Iterable[str]; str wins
    texts: str | bytes,
    pipeline: str | Language = ...,
    *,
    ids: None = ...,
    n_process: int = ...,
    batch_size: int = ...,
) -> Document: ...
@overload
def process(
    texts: Iterable[str | bytes],
    pipeline: str | Language = ...,
    *,
    ids: Sequence[str] | None = ...,
    n_process: int = ...,
    batch_size: int = ...,
) -> list[Document]: ...


def process(
    texts: str | bytes | Iterable[str | bytes],
    pipeline: str | Language = "clinical",
    *,
    ids: Sequence[str] | None = None,
    n_process: int = 1,
    batch_size: int = 64,
) -> Document | list[Document]:
    """Process one text (returns a `Document`) or many (returns a list, in order).

    `pipeline` is a name from `pipelines/`, a saved pipeline folder, a loaded `Language`, or `"auto"`
    (pathology reports get `pathology`, everything else `clinical`).

    Bytes are decoded (UTF-8, BOMs, cp1252, latin-1); binary data or other types raise
    `NotTextError` naming the item's position, never its content.
    """
    target = preload(pipeline)
    single = isinstance(texts, str | bytes)
    raw: list[object] = [texts] if single else list(texts)
    clean: list[str] = []
    for position, item in enumerate(raw):
        try:
            clean.append(coerce_text(item))
        except NotTextError as exc:
            raise type(exc)(f"item {position}: {exc}") from None
    doc_ids = list(ids) if ids is not None else [str(i) for i in range(len(clean))]
    if len(doc_ids) != len(clean):
        raise ValueError(f"got {len(doc_ids)} ids for {len(clean)} texts")
    from .parallel import iter_documents

    records: Iterator[tuple[str, str, dict[str, Any]]] = (
        (doc_id, text, {}) for doc_id, text in zip(doc_ids, clean, strict=True)
    )
    results = list(iter_documents(records, target, n_process=n_process, batch_size=batch_size))
    return results[0] if single else results


def process_stream(
    items: Iterable[Any],
    pipeline: str | Language = "auto",
    *,
    n_process: int = 1,
    batch_size: int = 32,
) -> Iterator[Document | DocumentFailure]:
    """Stream documents through a pipeline: one result per item, in input order, as soon as it is ready.

    For a record system's feed or a generator over a database: items are read lazily and only a few
    batches are in flight, so memory stays flat however long the stream. An item is a text (`str` or
    `bytes`, id = its position), an `(id, text)` or `(id, text, metadata)` tuple, a mapping with `id`,
    `text` and optionally `metadata`, or a `corpora.records.InputRecord`. An item that cannot be
    processed (not text, binary, too large, a reader's error) yields a `DocumentFailure` with the
    reason, never the text, and the stream goes on.
    """
    from .parallel import Unreadable, iter_results

    def normalized() -> Iterator[tuple[str, Any, dict[str, Any]]]:
        for position, item in enumerate(items):
            if isinstance(item, str | bytes):
                yield str(position), item, {}
            elif isinstance(item, tuple) and len(item) in (2, 3):
                meta = item[2] if len(item) == 3 and isinstance(item[2], dict) else {}
                yield str(item[0]), item[1], meta
            elif isinstance(item, Mapping):
                extra = item.get("metadata")
                yield (
                    str(item.get("id", position)),
                    item.get("text"),
                    extra if isinstance(extra, dict) else {},
                )
            elif hasattr(item, "id") and hasattr(item, "text") and hasattr(item, "error"):  # InputRecord
                text = item.text if item.text is not None else Unreadable(item.error or "unreadable")
                yield str(item.id), text, dict(getattr(item, "metadata", {}) or {})
            else:
                yield (
                    str(position),
                    Unreadable(
                        f"item {position}: expected text, a tuple, a mapping or an InputRecord, got {type(item).__name__}"
                    ),
                    {},
                )

    yield from iter_results(normalized(), preload(pipeline), n_process=n_process, batch_size=batch_size)
