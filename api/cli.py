"""`xeno api [--host H] [--port 8000]`: serve the API with uvicorn."""

from __future__ import annotations

import click

from core.settings import get_settings


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes [API_WORKERS].")
def api(host: str, port: int, workers: int | None) -> None:
    """Serve the HTTP API (auth, tenants, store data, insights)."""
    import uvicorn

    from api.logs import configure

    settings = get_settings()
    configure(settings.log_level)
    click.echo(f"serving the API on http://{host}:{port} (schema: /schema)")
    uvicorn.run(
        "api.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.api.workers,
        loop="uvloop",  # uvicorn[standard]: the C event loop and HTTP parser, not asyncio's
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    click.echo("API stopped")
