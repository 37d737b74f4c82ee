"""A real server on loopback: concurrency, the bounded queue, timeouts, and schemathesis against our
own OpenAPI schema."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from nlp_engine.service import Settings, create_app, worker
from tests.service.conftest import AUTH, TOKEN, running

_real_process_many = worker.process_many


def slow_process_many(docs: list[Any]) -> list[dict[str, Any]]:
    time.sleep(1.0)
    return _real_process_many(docs)


@pytest.fixture()
def slow_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # patched before the app starts its pool: forked workers run the slow version
    monkeypatch.setattr(worker, "process_many", slow_process_many)


def test_full_queue_answers_503_and_recovers(slow_worker: None) -> None:
    app = create_app(Settings(tokens=(TOKEN,), workers=1, queue_size=1))
    with running(app) as url:

        def post(i: int) -> httpx.Response:
            return httpx.post(
                f"{url}/v1/process", json={"id": str(i), "text": "CHF."}, headers=AUTH, timeout=60
            )

        with ThreadPoolExecutor(4) as threads:
            responses = list(threads.map(post, range(4)))
        statuses = sorted(r.status_code for r in responses)
        assert 200 in statuses and 503 in statuses, statuses
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.headers["retry-after"] == "1" and busy.json()["title"] == "Busy"
        assert post(9).status_code == 200  # the queue drained: served again
        metrics = httpx.get(f"{url}/metrics", headers=AUTH).text
        assert "nlp_engine_rejected_total" in metrics and 'status="503"' in metrics


def test_slow_request_times_out_with_504(slow_worker: None) -> None:
    app = create_app(Settings(tokens=(TOKEN,), workers=1, timeout_s=0.3))
    with running(app) as url:
        response = httpx.post(f"{url}/v1/process", json={"text": "CHF."}, headers=AUTH, timeout=30)
        assert response.status_code == 504 and response.json()["title"] == "Timeout"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = create_app(Settings(tokens=(TOKEN,), workers=2, max_chars=20000, max_body_bytes=200_000))
    with running(app) as url:
        yield url


def test_parallel_requests_all_succeed(server: str) -> None:
    texts = [f"Note {i}: Denies chest pain. History of CHF. Possible pneumonia." for i in range(24)]
    with ThreadPoolExecutor(8) as threads:
        responses = list(
            threads.map(
                lambda t: httpx.post(f"{server}/v1/code", json={"text": t}, headers=AUTH, timeout=60), texts
            )
        )
    assert [r.status_code for r in responses] == [200] * 24
    assert all([c["code"] for c in r.json()["codes"]] == ["I50.9", "J18.9", "R07.9"] for r in responses)


# HL7 v2 bodies are plain text on the wire
schemathesis.serializer.alias("x-application/hl7-v2+er7", "text/plain")
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case, server: str) -> None:
    # Every generated request gets an answer the schema allows: no 500s, documented statuses,
    # declared content types, bodies that match their models. Not checked: that every schema-valid
    # body is accepted: a FHIR report without text, or a note of spaces, is valid JSON Schema and
    # still a 422, which JSON Schema cannot say.
    case.call_and_validate(
        base_url=server, headers=AUTH, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )


def crashing_process_many(docs: list[Any]) -> list[dict[str, Any]]:
    if any("__crash__" in text for _, text, _, _ in docs):
        os._exit(1)  # a worker dying as an out-of-memory kill would
    return _real_process_many(docs)


def test_dead_worker_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "process_many", crashing_process_many)
    app = create_app(Settings(tokens=(TOKEN,), workers=1))
    with running(app) as url:
        dead = httpx.post(f"{url}/v1/process", json={"text": "__crash__"}, headers=AUTH, timeout=60)
        assert dead.status_code == 503 and dead.json()["title"] == "Worker restarted"
        assert httpx.get(f"{url}/readyz").status_code == 200
        again = httpx.post(f"{url}/v1/process", json={"text": "CHF."}, headers=AUTH, timeout=60)
        assert again.status_code == 200 and again.json()["concepts"][0]["code"] == "I50.9"
