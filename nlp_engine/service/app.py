"""The REST service: the library's pipeline, result model and writers over HTTP (FastAPI).

Routes (versioned under `/v1`):

- `POST /v1/process`: one document as `text/plain`, JSON `{"id", "text", "pipeline"?}`, a FHIR
  `DiagnosticReport` (or a Bundle holding one) as `application/fhir+json`, or an HL7 v2 ORU message
  as `x-application/hl7-v2+er7`; returns the result-model JSON, or with `Accept:
  application/fhir+json` a FHIR `Bundle` of `Condition`s;
- `POST /v1/code`: the same inputs; ranked ICD-10-CM codes with their evidence spans;
- `POST /v1/deid`: `{"text", "mode"?, "patient"?}`; the de-identified text and PHI counts;
- `POST /v1/batch`: `{"documents": [{"id", "text"}, ...]}`, a FHIR Bundle or an HL7 batch: every
  document's result, failures reported per document;
- `GET /healthz` (alive), `GET /readyz` (pipeline loaded, pool up), `GET /metrics` (Prometheus).

Safety: bearer tokens compared in constant time (`NLP_ENGINE_API_TOKENS` or a token file); request
bodies over `max_body_bytes` are refused while they stream in (413); documents over `max_chars`
(413); work runs in a pool of worker processes off the event loop, behind a bounded queue that
answers 503 with `Retry-After` when full; each request has a timeout (504). Errors are RFC 9457
problem details. Logs carry the route, status and duration, never a body. CORS is off unless origins
are given.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from . import worker

log = logging.getLogger("nlp_engine.service")

TEXT = "text/plain"
JSON = "application/json"
FHIR_JSON = "application/fhir+json"
HL7 = ("x-application/hl7-v2+er7", "application/hl7-v2", "application/hl7-v2+er7")
PROBLEM = "application/problem+json"
FHIR_BODY_SCHEMA = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"enum": ["DiagnosticReport", "DocumentReference", "Bundle"]}},
    "description": "a DiagnosticReport or DocumentReference, or a Bundle of them",
}


@dataclass
class Settings:
    pipeline: str = "auto"
    tokens: tuple[str, ...] = ()
    workers: int = 2
    queue_size: int = 64
    max_body_bytes: int = 10 * 2**20
    max_chars: int = 2_000_000
    max_batch: int = 256
    timeout_s: float = 60.0
    cors_origins: tuple[str, ...] = ()
    deid_key: bytes | None = field(default=None, repr=False)
    pathology_model: str | None = None  # a `pathology train` folder: /v1/pathology adds its codes


def tokens_from_env(token_file: str | None = None) -> tuple[str, ...]:
    """Bearer tokens from `NLP_ENGINE_API_TOKENS` (comma-separated) and/or a file (one per line)."""
    tokens = [t.strip() for t in os.environ.get("NLP_ENGINE_API_TOKENS", "").split(",") if t.strip()]
    if token_file:
        with open(token_file, encoding="utf-8") as handle:
            tokens += [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    return tuple(tokens)


# -- request and response models (they make the OpenAPI schema) ------------------------------------
class DocumentIn(BaseModel):
    id: str = Field("document", max_length=512, description="Your id for the document.")
    text: str = Field(..., description="The report or note.")
    pipeline: str | None = Field(None, description="Pipeline name, or `auto`; default: the server's.")
    age_years: float | None = Field(
        None,
        ge=0,
        le=130,
        description="The patient's age at the report, where known: /v1/pathology's derived stage of a "
        "thyroid carcinoma depends on it.",
    )


class BatchIn(BaseModel):
    documents: list[DocumentIn] = Field(..., description="Documents to process, each with its own id.")


class DeidIn(BaseModel):
    text: str
    mode: Literal["mask", "tag", "surrogate"] = "surrogate"
    patient: str | None = Field(None, max_length=256, description="Scopes surrogates and date shifts.")


class DeidOut(BaseModel):
    text: str
    mode: str
    counts: dict[str, int]
    spans: list[dict[str, Any]]


class Evidence(BaseModel):
    text: str
    start: int
    end: int
    section: str | None
    status: str


class CodeOut(BaseModel):
    code: str
    title: str
    score: float
    mentions: int
    status: str
    evidence: list[Evidence]


class CodesOut(BaseModel):
    id: str
    pipeline: str
    codes: list[CodeOut]


class BatchOut(BaseModel):
    results: list[dict[str, Any]]
    failures: list[dict[str, str]]


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": title, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
    for code, title in {
        400: "Malformed request",
        401: "Missing or wrong bearer token",
        413: "Body or document too large",
        415: "Unsupported content type",
        422: "Invalid document",
        503: "Busy or not ready",
        504: "Timeout",
    }.items()
}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class ProblemError(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers


# -- the app ------------------------------------------------------------------------------------------
def create_app(config: Settings | None = None) -> FastAPI:
    settings = config or Settings()
    from .metrics import Metrics

    metrics = Metrics()
    state: dict[str, Any] = {"pool": None, "ready": False, "pending": 0}

    async def start_pool() -> ProcessPoolExecutor:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        pool = ProcessPoolExecutor(
            settings.workers, mp_context=context, initializer=worker.initialize,
            initargs=(settings.pipeline, settings.deid_key, settings.pathology_model),
        )  # fmt: skip
        # one round trip per worker: ready means every worker has its pipeline
        await asyncio.gather(
            *(asyncio.wrap_future(pool.submit(worker.ping)) for _ in range(settings.workers))
        )
        return pool

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load before forking: workers share it
        worker.initialize(settings.pipeline, settings.deid_key, settings.pathology_model)
        state.update(pool=await start_pool(), ready=True)
        log.info("ready: pipeline %s, %d workers", settings.pipeline, settings.workers)
        try:
            yield
        finally:
            state["ready"] = False
            state["pool"].shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="nlp-engine",
        version=_version(),
        description="Offline clinical NLP over HTTP: ICD-10-CM coding with assertions, FHIR output, de-identification.",
        lifespan=lifespan,
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"]
        )

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # field paths and error types only: the input values may be patient text
        fields = sorted(
            {".".join(str(p) for p in e.get("loc", ())) + f" ({e.get('type')})" for e in exc.errors()}
        )
        return problem(422, "Invalid request", "invalid fields: " + "; ".join(fields[:20]))

    class Guard(BaseHTTPMiddleware):
        """Authentication, body size, access log and metrics for every request."""

        async def dispatch(
            self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            started = time.perf_counter()
            route = request.url.path
            response: Response
            if route.startswith("/v1/") or route == "/metrics":
                denied = _check_token(request, settings.tokens)
                if denied is not None:
                    response = denied
                    _log(request, response.status_code, started)
                    metrics.observe(route, response.status_code, time.perf_counter() - started)
                    return response
                length = request.headers.get("content-length")
                if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
                    response = problem(
                        413, "Request too large", f"the body limit is {settings.max_body_bytes:,} bytes"
                    )
                    _log(request, 413, started)
                    metrics.observe(route, 413, time.perf_counter() - started)
                    return response
            response = await call_next(request)
            _log(request, response.status_code, started)
            metrics.observe(route, response.status_code, time.perf_counter() - started)
            return response

    app.add_middleware(Guard)

    async def read_body(request: Request) -> bytes:
        """The body, refused (413) as soon as it grows past the limit, even without Content-Length."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise ProblemError(
                    413, "Request too large", f"the body limit is {settings.max_body_bytes:,} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def documents_from(
        request: Request, *, many: bool
    ) -> list[tuple[str, str, dict[str, Any], str | None]]:
        """`(id, text, metadata, pipeline)` for each document in the request body, by content type."""
        kind = request.headers.get("content-type", TEXT).split(";")[0].strip().lower()
        body = await read_body(request)
        docs = worker.parse_documents(body, kind, many=many, max_batch=settings.max_batch)
        if isinstance(docs, str):
            status = 415 if docs.startswith("unsupported") else 422
            raise ProblemError(status, _TITLES[status], docs)
        for doc_id, text, _, _ in docs:
            if len(text) > settings.max_chars:
                raise ProblemError(
                    413,
                    "Document too large",
                    f"{doc_id}: {len(text):,} characters; the limit is {settings.max_chars:,}",
                )
        return docs

    async def run(function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` in the worker pool, behind the bounded queue and the timeout."""
        if not state["ready"]:
            raise ProblemError(503, "Not ready", "the pipeline is still loading", {"Retry-After": "5"})
        if state["pending"] >= settings.queue_size:
            metrics.rejected.inc()
            raise ProblemError(
                503, "Busy", f"{state['pending']} requests are queued; retry later", {"Retry-After": "1"}
            )
        state["pending"] += 1
        metrics.queue.set(state["pending"])
        try:
            future = state["pool"].submit(function, *args)
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=settings.timeout_s)
        except TimeoutError:
            raise ProblemError(
                504, "Timeout", f"processing took longer than {settings.timeout_s:g} s"
            ) from None
        except BrokenProcessPool:
            # a worker died (killed, out of memory): start a fresh pool, tell the client to retry
            log.error("a worker process died; restarting the pool")
            broken, state["ready"] = state["pool"], False
            try:
                state["pool"] = await start_pool()
            finally:
                state["ready"] = True
                broken.shutdown(wait=False, cancel_futures=True)
            raise ProblemError(
                503, "Worker restarted", "a worker process failed; retry", {"Retry-After": "1"}
            ) from None
        finally:
            state["pending"] -= 1
            metrics.queue.set(state["pending"])

    async def one_result(request: Request, route: str) -> dict[str, Any]:
        """The result of the one document in the request, or a 422 saying why it failed."""
        ((doc_id, text, meta, pipeline),) = await documents_from(request, many=False)
        (result,) = await run(worker.process_many, [(doc_id, text, meta, pipeline)])
        if "error" in result:
            raise ProblemError(422, "Document not processed", f"{result['id']}: {result['error']}")
        metrics.documents.labels(route=route).inc()
        return dict(result)

    body_doc = _request_body(DocumentIn, "one HL7 v2 ORU^R01 message", plain_text=True)

    @app.post(
        "/v1/process",
        summary="Process one document",
        responses={200: {"content": {JSON: {}, FHIR_JSON: {}}}, **PROBLEM_RESPONSES},
        openapi_extra=body_doc,
    )
    async def process(request: Request) -> Response:
        result = await one_result(request, "process")
        if FHIR_JSON in request.headers.get("accept", ""):
            bundle = await run(worker.to_bundle, result)
            return Response(json.dumps(bundle), media_type=FHIR_JSON)
        return JSONResponse(result)

    @app.post(
        "/v1/code",
        summary="ICD-10-CM codes with evidence",
        response_model=CodesOut,
        responses=PROBLEM_RESPONSES,
        openapi_extra=body_doc,
    )
    async def code(request: Request) -> dict[str, Any]:
        result = await one_result(request, "code")
        return worker.ranked_codes(result)

    @app.post(
        "/v1/pathology",
        summary="Synoptic fields of a pathology report, with evidence (and codes, with a coder)",
        responses={200: {"content": {JSON: {}, FHIR_JSON: {}}}, **PROBLEM_RESPONSES},
        openapi_extra=body_doc,
    )
    async def pathology(request: Request) -> Response:
        ((doc_id, text, meta, _),) = await documents_from(request, many=False)
        accept = request.headers.get("accept", "")
        result = await run(worker.pathology, doc_id, text, FHIR_JSON in accept, meta.get("age_years"))
        if "error" in result:
            raise ProblemError(422, "Document not processed", f"{result['id']}: {result['error']}")
        metrics.documents.labels(route="pathology").inc()
        if "bundle" in result:
            return Response(json.dumps(result["bundle"]), media_type=FHIR_JSON)
        return JSONResponse(result)

    @app.post("/v1/deid", summary="De-identify a text", response_model=DeidOut, responses=PROBLEM_RESPONSES)
    async def deid(payload: DeidIn) -> dict[str, Any]:
        if len(payload.text) > settings.max_chars:
            raise ProblemError(
                413,
                "Document too large",
                f"{len(payload.text):,} characters; the limit is {settings.max_chars:,}",
            )
        result = await run(worker.deidentify, payload.text, payload.mode, payload.patient)
        if "error" in result:
            raise ProblemError(422, "Document not processed", result["error"])
        metrics.documents.labels(route="deid").inc()
        return result

    batch_doc = _request_body(BatchIn, "HL7 v2 messages", plain_text=False)

    @app.post(
        "/v1/batch",
        summary="Process many documents",
        response_model=BatchOut,
        responses=PROBLEM_RESPONSES,
        openapi_extra=batch_doc,
    )
    async def batch(request: Request) -> dict[str, Any]:
        docs = await documents_from(request, many=True)
        results = await run(worker.process_many, docs)
        ok = [r for r in results if "error" not in r]
        metrics.documents.labels(route="batch").inc(len(ok))
        return {
            "results": ok,
            "failures": [{"id": r["id"], "reason": r["error"]} for r in results if "error" in r],
        }

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness", responses={503: PROBLEM_RESPONSES[503]})
    async def readyz() -> Response:
        if not state["ready"]:
            return problem(503, "Not ready", "the pipeline is still loading")
        return JSONResponse({"status": "ready", "pipeline": settings.pipeline, "workers": settings.workers})

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics_route() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    return app


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid document",
    503: "Busy",
    504: "Timeout",
}


def _request_body(model: type[BaseModel], hl7: str, *, plain_text: bool) -> dict[str, Any]:
    """The OpenAPI request body of a route that takes JSON (`model`), FHIR and HL7 (and plain text)."""
    content: dict[str, Any] = {TEXT: {"schema": {"type": "string"}}} if plain_text else {}
    content[JSON] = {"schema": model.model_json_schema()}
    content[FHIR_JSON] = {"schema": FHIR_BODY_SCHEMA}
    content[HL7[0]] = {"schema": {"type": "string", "description": hl7}}
    return {"requestBody": {"content": content, "required": True}}


def _check_token(request: Request, tokens: tuple[str, ...]) -> Response | None:
    if not tokens:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, supplied = header.partition(" ")
    # compare against every token, always, in constant time per token
    good = False
    for token in tokens:
        good |= hmac.compare_digest(supplied.strip().encode(), token.encode())
    if scheme.lower() != "bearer" or not good:
        return problem(
            401, "Unauthorized", "a valid bearer token is required", {"WWW-Authenticate": "Bearer"}
        )
    return None


def _log(request: Request, status: int, started: float) -> None:
    log.info(
        "%s %s %d %.1fms", request.method, request.url.path, status, (time.perf_counter() - started) * 1000
    )


def _version() -> str:
    from .. import __version__

    return __version__
