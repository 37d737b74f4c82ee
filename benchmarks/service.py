"""Bounded load test of the REST service on loopback.

Usage: python benchmarks/service.py [--requests 200] [--concurrency 1 2 4 8 16 32] [--workers 2]

Starts `nlp-engine serve` (clinical pipeline, N worker processes) as a subprocess, then from this
process sends a fixed number of `POST /v1/process` requests at each concurrency level, using
MTSamples notes of typical length (the middle of the length distribution of the first 500). Prints
requests/s, docs/s, p50/p95/p99 latency, errors (any non-200) and the server's resident memory (the
server process and its workers, read from /proc) after each level.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit  # noqa: E402
from throughput import load_texts  # noqa: E402

TOKEN = "benchmark-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo.extend(int(c) for c in children)
        except (OSError, StopIteration):
            continue
    return round(total / 1024, 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def level(url: str, texts: list[str], n: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one(i: int) -> None:
            async with semaphore:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/v1/process",
                        json={"id": str(i), "text": texts[i % len(texts)]},
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    )
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                latencies.append(time.perf_counter() - started)
                if status != "200":
                    errors[status] = errors.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        seconds = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": n,
        "seconds": round(seconds, 2),
        "requests_per_s": round(n / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    texts = load_texts(500)
    texts.sort(key=len)
    typical = texts[len(texts) // 4 : 3 * len(texts) // 4]  # the middle half by length
    port = free_port()
    env = {**os.environ, "NLP_ENGINE_API_TOKENS": TOKEN}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "nlp-engine"), "serve", "--port", str(port), "--pipeline", "clinical",
         "--workers", str(args.workers), "--queue", "256"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        idle_rss = tree_rss_mb(server.pid)
        asyncio.run(level(url, typical, 20, 2))  # warm-up
        levels = []
        for concurrency in args.concurrency:
            result = asyncio.run(level(url, typical, args.requests, concurrency))
            result["server_rss_mb"] = tree_rss_mb(server.pid)
            levels.append(result)
    finally:
        server.terminate()
        server.wait(timeout=30)
    words = [len(t.split()) for t in typical]
    emit(
        {
            "benchmark": "service",
            "route": "POST /v1/process (JSON), clinical pipeline",
            "server_workers": args.workers,
            "document_words_median": int(statistics.median(words)),
            "server_rss_idle_mb": idle_rss,
            "levels": levels,
        }
    )


if __name__ == "__main__":
    main()
