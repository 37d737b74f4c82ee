"""Prometheus metrics of the service, in a registry of its own (several apps in one process stay apart)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_KNOWN_ROUTES = ("/v1/process", "/v1/code", "/v1/deid", "/v1/batch", "/healthz", "/readyz", "/metrics")


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nlp_engine_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nlp_engine_request_seconds",
            "Request latency by route",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.documents = Counter(
            "nlp_engine_documents", "Documents processed by route", ["route"], registry=self.registry
        )
        self.queue = Gauge(
            "nlp_engine_queue_depth", "Requests waiting or running in the pool", registry=self.registry
        )
        self.rejected = Counter(
            "nlp_engine_rejected",
            "Requests refused with 503 because the queue was full",
            registry=self.registry,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        # unknown paths share one label: a scanner must not create unbounded label values
        label = route if route in _KNOWN_ROUTES else "other"
        self.requests.labels(route=label, status=str(status)).inc()
        self.latency.labels(route=label).observe(seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
