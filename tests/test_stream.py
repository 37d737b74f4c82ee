from __future__ import annotations

from collections.abc import Iterator

import pytest

import nlp_engine
from corpora.records import InputRecord
from nlp_engine import Document, DocumentFailure, process_stream


def feed() -> Iterator[object]:
    yield "Denies chest pain."
    yield ("n2", "FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.", {"source": "lis"})
    yield {"id": "n3", "text": "Possible pneumonia.".encode("cp1252")}
    yield b"\x00\x01\x02 binary MRN 998877"
    yield 42
    yield InputRecord("n6", None, {"path": "x.txt"}, "file is empty or whitespace only")
    yield InputRecord("n7", "COPD.", {"path": "y.txt"})


@pytest.mark.parametrize("n_process", [1, 2])
def test_stream_yields_one_result_per_item_in_order(n_process: int) -> None:
    results = list(process_stream(feed(), n_process=n_process, batch_size=2))
    assert [r.id for r in results] == ["0", "n2", "n3", "3", "4", "n6", "n7"]
    kinds = [type(r) for r in results]
    assert kinds == [
        Document,
        Document,
        Document,
        DocumentFailure,
        DocumentFailure,
        DocumentFailure,
        Document,
    ]
    docs = {r.id: r for r in results if isinstance(r, Document)}
    assert docs["0"].concepts[0].assertion.negated
    assert docs["n2"].pipeline == "pathology" and docs["n2"].metadata == {"source": "lis"}
    assert docs["n3"].pipeline == "clinical" and docs["n3"].concepts[0].assertion.uncertain
    failures = {r.id: r.reason for r in results if isinstance(r, DocumentFailure)}
    assert "binary" in failures["3"] and "998877" not in failures["3"]
    assert "got int" in failures["4"]
    assert failures["n6"] == "file is empty or whitespace only"


def test_stream_is_lazy() -> None:
    pulled = []

    def endless() -> Iterator[str]:
        for i in range(10**9):
            pulled.append(i)
            yield f"Note {i}: CHF."

    stream = process_stream(endless(), pipeline="clinical", batch_size=4)
    first = [next(stream) for _ in range(5)]
    assert [d.id for d in first] == ["0", "1", "2", "3", "4"]
    assert len(pulled) <= 8  # a couple of batches read ahead, not the whole feed
    assert nlp_engine.process_folder.__name__ == "process_folder"
