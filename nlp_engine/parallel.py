"""Running a pipeline over many texts in worker processes, returning result-model Documents.

spaCy's own `nlp.pipe(n_process=N)` ships every processed Doc back to the parent as bytes
(about 4 ms a report here, more than half the cost of processing it), so it barely scales. Here the
workers convert Docs to `Document`s themselves and send those (about 0.2 ms to pickle), and the
parent only collects them: throughput grows with the workers.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

from spacy.language import Language

from .results import Document

Item = tuple[str, str, dict[str, Any]]
_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class DocumentFailure:
    """A document the pipeline could not process; `reason` names the error, never the text."""

    id: str
    reason: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Unreadable:
    """Stands in for the text of an item that could not be read, so its failure keeps its place in order."""

    reason: str


def _init_worker(pipeline: str | Language, batch_size: int, isolate: bool = False) -> None:
    from .pipeline import get_pipeline

    _WORKER["isolate"] = isolate
    _WORKER["auto"] = pipeline == "auto"
    if not _WORKER["auto"]:
        _WORKER["nlp"], _WORKER["name"] = get_pipeline(pipeline)
    _WORKER["batch_size"] = batch_size


def _run_one(doc_id: str, text: str, meta: dict[str, Any]) -> Document:
    from .pipeline import choose_pipeline, doc_to_result, get_pipeline

    nlp, name = get_pipeline(choose_pipeline(text)) if _WORKER["auto"] else (_WORKER["nlp"], _WORKER["name"])
    return doc_to_result(nlp(text), doc_id, name, text, meta)


def _run_chunk(chunk: list[Item]) -> list[Document | DocumentFailure]:
    from .errors import NLPEngineError
    from .pipeline import doc_to_result
    from .textio import coerce_text

    if _WORKER["isolate"]:
        out: list[Document | DocumentFailure] = []
        for doc_id, text, meta in chunk:
            if isinstance(text, Unreadable):
                out.append(DocumentFailure(doc_id, text.reason, meta))
                continue
            try:
                out.append(_run_one(doc_id, coerce_text(text), meta))
            except NLPEngineError as exc:
                out.append(DocumentFailure(doc_id, f"{type(exc).__name__}: {exc}", meta))
            except Exception as exc:  # noqa: BLE001 - one bad document must not stop a batch
                # Only the type: messages of third-party errors may quote the text.
                out.append(DocumentFailure(doc_id, f"processing failed: {type(exc).__name__}", meta))
        return out
    if _WORKER["auto"]:
        return [_run_one(doc_id, text, meta) for doc_id, text, meta in chunk]

    nlp, name = _WORKER["nlp"], _WORKER["name"]
    docs = nlp.pipe((text for _, text, _ in chunk), batch_size=_WORKER["batch_size"])
    return [
        doc_to_result(doc, doc_id, name, text, meta)
        for doc, (doc_id, text, meta) in zip(docs, chunk, strict=True)
    ]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def iter_documents(
    items: Iterable[Item],
    pipeline: str | Language = "clinical",
    *,
    n_process: int = 1,
    batch_size: int = 32,
) -> Iterator[Document]:
    """Yield one `Document` per `(id, text, metadata)` item, in input order, streaming.

    `pipeline="auto"` picks `pathology` or `clinical` per text (see `pipeline.choose_pipeline`).
    With `n_process > 1`, chunks of `batch_size` items go to worker processes (fork where the
    platform has it, so a pipeline loaded in the parent is shared, not reloaded). An error raises.
    """
    for result in _iterate(items, pipeline, n_process, batch_size, isolate=False):
        assert isinstance(result, Document)
        yield result


def iter_results(
    items: Iterable[Item],
    pipeline: str | Language = "clinical",
    *,
    n_process: int = 1,
    batch_size: int = 32,
) -> Iterator[Document | DocumentFailure]:
    """Like `iter_documents`, but a document that fails yields a `DocumentFailure` and the rest go on.

    Here an item's text may also be bytes (decoded in the worker) or an `Unreadable` (yields its failure)."""
    yield from _iterate(items, pipeline, n_process, batch_size, isolate=True)


def _iterate(
    items: Iterable[Item], pipeline: str | Language, n_process: int, batch_size: int, *, isolate: bool
) -> Iterator[Document | DocumentFailure]:
    if n_process <= 1:
        _init_worker(pipeline, batch_size, isolate)
        for chunk in _chunks(items, batch_size):
            yield from _run_chunk(chunk)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(n_process, initializer=_init_worker, initargs=(pipeline, batch_size, isolate)) as pool:
        # A bounded window of chunks in flight (Pool.imap would read the whole input ahead): memory
        # stays flat however large the input, and results still come back in input order.
        pending: deque[AsyncResult[list[Document | DocumentFailure]]] = deque()
        for chunk in _chunks(items, batch_size):
            pending.append(pool.apply_async(_run_chunk, (chunk,)))
            if len(pending) >= 2 * n_process:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
