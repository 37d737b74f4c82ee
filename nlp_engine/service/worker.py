"""What the service's worker processes run, and the parsing of request bodies into documents.

Workers return plain dicts (the result model's JSON), which pickle fast; a document that cannot be
processed comes back as `{"id", "error"}` with the error's type or our own message, never its text.
"""

from __future__ import annotations

from typing import Any

from ..errors import NLPEngineError
from ..textio import coerce_text, decode_bytes, repair_noted, repair_nul_interleaved

Doc = tuple[str, str, dict[str, Any], str | None]
_STATE: dict[str, Any] = {}


def initialize(pipeline: str, deid_key: bytes | None, pathology_model: str | None = None) -> None:
    """Load the pipeline (and the de-identification lexicons, and a pathology coder if given) once per
    process."""
    from ..deid import find_phi
    from ..pipeline import preload

    _STATE["pipeline"] = pipeline
    _STATE["deid_key"] = deid_key
    if _STATE.get("pathology_model") != pathology_model:  # forked workers inherit the parent's
        from ..pathology.model_io import load_pathology_coder

        _STATE["pathology_coder"] = load_pathology_coder(pathology_model) if pathology_model else None
        _STATE["pathology_model"] = pathology_model
    preload(pipeline)
    find_phi("Dr. Smith 7/22")  # loads the lexicons


def pathology(doc_id: str, text: str, bundle: bool = False, age_years: float | None = None) -> dict[str, Any]:
    """`pathology.report.report_result` for one report (codes too when the service has a coder), or
    with `bundle` its FHIR Bundle under `"bundle"`; `{"id", "error"}` if it cannot be read."""
    from ..pathology.report import report_bundle, report_result

    try:
        text, _ = repair_nul_interleaved(coerce_text(text))
        if not text.strip():
            return {"id": doc_id, "error": "empty document"}
        result = report_result(doc_id, text, _STATE.get("pathology_coder"), age_years=age_years)
        if bundle:
            return {"id": doc_id, "bundle": report_bundle(result)}
        return result
    except NLPEngineError as exc:
        return {"id": doc_id, "error": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # noqa: BLE001 - report the kind of failure, never the text
        return {"id": doc_id, "error": f"processing failed: {type(exc).__name__}"}


def ping() -> bool:
    return bool(_STATE)


def process_many(docs: list[Doc]) -> list[dict[str, Any]]:
    from ..pipeline import choose_pipeline, doc_to_result, get_pipeline

    out: list[dict[str, Any]] = []
    for doc_id, text, meta, pipeline in docs:
        try:
            meta = dict(meta)
            text = repair_noted(coerce_text(text), meta)  # UTF-16 read as 8-bit, as the readers do
            if not text.strip():
                out.append({"id": doc_id, "error": "empty document"})
                continue
            name = pipeline or _STATE["pipeline"]
            nlp, resolved = get_pipeline(choose_pipeline(text) if name == "auto" else name)
            out.append(doc_to_result(nlp(text), doc_id, resolved, text, meta).to_dict())
        except NLPEngineError as exc:
            out.append({"id": doc_id, "error": f"{type(exc).__name__}: {exc}"})
        except Exception as exc:  # noqa: BLE001 - one bad document must not fail the others
            out.append({"id": doc_id, "error": f"processing failed: {type(exc).__name__}"})
    return out


def to_bundle(result: dict[str, Any]) -> dict[str, Any]:
    from ..fhir import document_to_bundle
    from ..results import Document

    return document_to_bundle(Document.from_dict(result))


def deidentify(text: str, mode: str, patient: str | None) -> dict[str, Any]:
    from ..deid import redact

    try:
        result = redact(text, mode=mode, key=_STATE.get("deid_key"), patient=patient)  # type: ignore[arg-type]
    except NLPEngineError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "text": result.text,
        "mode": mode,
        "counts": result.audit,
        "spans": [s.to_dict() for s in result.spans],
    }


_STATUS_RANK = {
    "present": 0,
    "historical": 1,
    "uncertain": 2,
    "family": 3,
    "other": 3,
    "hypothetical": 4,
    "negated": 5,
}


def ranked_codes(result: dict[str, Any]) -> dict[str, Any]:
    """ICD-10-CM codes of a result, best first: affirmed before uncertain before negated mentions, then
    by linker score and number of mentions; each with the spans that support it."""
    codes: dict[str, dict[str, Any]] = {}
    for concept in result["concepts"]:
        if not concept["code"]:
            continue
        best = next((c for c in concept["codes"] if c["code"] == concept["code"]), None)
        entry = codes.setdefault(
            concept["code"],
            {
                "code": concept["code"],
                "title": best["title"] if best else "",
                "score": 0.0,
                "mentions": 0,
                "status": "negated",
                "evidence": [],
            },
        )
        status = concept["assertion"]["status"]
        entry["score"] = max(entry["score"], float(best["score"]) if best else 0.0)
        entry["mentions"] += 1
        if _STATUS_RANK.get(status, 9) < _STATUS_RANK.get(entry["status"], 9):
            entry["status"] = status
        entry["evidence"].append(
            {
                "text": concept["text"],
                "start": concept["start"],
                "end": concept["end"],
                "section": concept["section"],
                "status": status,
            }
        )
    ranked = sorted(
        codes.values(),
        key=lambda c: (_STATUS_RANK.get(c["status"], 9), -c["score"], -c["mentions"], c["code"]),
    )
    return {"id": result["id"], "pipeline": result["pipeline"], "codes": ranked}


def parse_documents(body: bytes, kind: str, *, many: bool, max_batch: int) -> list[Doc] | str:
    """The documents in a request body of content type `kind`, or a message saying what is wrong
    (starting with "unsupported" for a content type we do not take)."""
    from pydantic import ValidationError

    from corpora.fhir import read_fhir_text
    from corpora.hl7v2 import read_hl7_text

    from .app import HL7, BatchIn, DocumentIn

    if kind in ("text/plain", "") and not many:
        try:
            text, encoding = decode_bytes(body)
        except NLPEngineError as exc:
            return f"{type(exc).__name__}: {exc}"
        return [("document", text, {"encoding": encoding}, None)]
    if kind == "application/json":
        docs: list[Doc]
        try:
            if many:
                batch = BatchIn.model_validate_json(body)
                docs = [(d.id, d.text, _known(d), d.pipeline) for d in batch.documents]
            else:
                one = DocumentIn.model_validate_json(body)
                docs = [(one.id, one.text, _known(one), one.pipeline)]
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in exc.errors()})
            return "invalid JSON document: " + "; ".join(fields[:20])
        return _limit(docs, many, max_batch)
    if kind in ("application/fhir+json", *HL7):
        try:
            text, _ = decode_bytes(body)
        except NLPEngineError as exc:
            return f"{type(exc).__name__}: {exc}"
        reader = read_fhir_text if kind == "application/fhir+json" else read_hl7_text
        records = list(reader(text, file_id="request", meta={}))
        bad = [r for r in records if r.text is None]
        if bad:
            return "; ".join(f"{r.id}: {r.error}" for r in bad[:10])
        docs = [(r.id.removeprefix("request#"), r.text or "", dict(r.metadata), None) for r in records]
        return _limit(docs, many, max_batch)
    return f"unsupported content type {kind!r}; send text/plain, application/json, application/fhir+json or {HL7[0]}"


def _known(doc: Any) -> dict[str, Any]:
    """The metadata a JSON document carries beside its text (the patient's age, where given)."""
    return {} if doc.age_years is None else {"age_years": doc.age_years}


def _limit(docs: list[Doc], many: bool, max_batch: int) -> list[Doc] | str:
    if not docs:
        return "no documents in the request"
    if not many and len(docs) != 1:
        return f"the request holds {len(docs)} documents; POST them to /v1/batch"
    if len(docs) > max_batch:
        return f"the request holds {len(docs)} documents; the batch limit is {max_batch}"
    return docs
