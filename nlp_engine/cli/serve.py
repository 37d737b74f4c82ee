from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import typer

from . import options


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8080, "--port", min=0, max=65535),
    pipeline: str = options.PIPELINE,
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Worker processes for the NLP work."),
    token_file: Path = typer.Option(
        None,
        "--token-file",
        exists=True,
        dir_okay=False,
        help="Bearer tokens, one a line (also: $NLP_ENGINE_API_TOKENS).",
    ),
    queue_size: int = typer.Option(64, "--queue", min=1, help="Requests waiting or running before 503s."),
    max_body_mb: float = typer.Option(10.0, "--max-body-mb", min=0.001, help="Largest request body."),
    max_chars: int = typer.Option(2_000_000, "--max-chars", min=1, help="Largest document, in characters."),
    timeout_s: float = typer.Option(60.0, "--timeout", min=0.1, help="Seconds before a request answers 504."),
    cors_origin: list[str] = typer.Option(
        [], "--cors-origin", help="Allow this browser origin (CORS is off by default)."
    ),
    insecure: bool = typer.Option(False, "--insecure", help="Allow a non-loopback address without tokens."),
    pathology_model: Path = typer.Option(
        None,
        "--pathology-model",
        exists=True,
        file_okay=False,
        help="A trained pathology coder (`pathology train`): /v1/pathology adds its codes.",
    ),
) -> None:
    """Serve the pipeline over HTTP (FastAPI + uvicorn): /v1/process, /v1/code, /v1/deid, /v1/batch,
    /v1/pathology."""
    import uvicorn

    from ..service import Settings, create_app, tokens_from_env

    tokens = tokens_from_env(str(token_file) if token_file else None)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not tokens and not loopback and not insecure:
        raise typer.BadParameter(
            "refusing to serve on a non-loopback address without bearer tokens (set NLP_ENGINE_API_TOKENS or "
            "--token-file, or pass --insecure)",
            param_hint="--host",
        )
    key = os.environ.get("NLP_ENGINE_DEID_KEY")
    settings = Settings(
        pipeline=pipeline,
        tokens=tokens,
        workers=workers,
        queue_size=queue_size,
        max_body_bytes=int(max_body_mb * 2**20),
        max_chars=max_chars,
        timeout_s=timeout_s,
        cors_origins=tuple(cor for cor in cors_origin),
        deid_key=key.encode() if key else None,
        pathology_model=str(pathology_model) if pathology_model else None,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # uvicorn's access log prints paths and query strings; ours prints route, status and duration only
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="info")
