"""Static assets from installed packages, served under `/assets/`.

Every file a page loads comes from a registry package the project depends on (Swagger UI
from `swagger-ui-py`, plotly.js from `plotly`) or from `api/web/static`; an allow-list
maps public names to files, so no request path ever reaches the file system. Each file
is read (and gzipped) once per process: plotly.js is 4.8 MB, 1.4 MB compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ASSETS_PATH = "/assets"

# public name -> (top-level package, path inside it)
SOURCES: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger_ui", "static/swagger-ui-bundle.js"),
    "swagger-ui-standalone-preset.js": ("swagger_ui", "static/swagger-ui-standalone-preset.js"),
    "swagger-ui.css": ("swagger_ui", "static/swagger-ui.css"),
    "plotly.min.js": ("plotly", "package_data/plotly.min.js"),
    "app.js": ("api", "web/static/app.js"),
    "app.css": ("api", "web/static/app.css"),
    "favicon.svg": ("api", "web/static/favicon.svg"),
}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def source_path(name: str) -> Path:
    """The file behind a public name, located without importing its package (importing
    plotly or swagger_ui would cost time and memory for nothing)."""
    package, inner = SOURCES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), inner)


@cache
def load(name: str) -> Asset:
    """Read, compress and fingerprint one asset (KeyError for a name not listed)."""
    body = source_path(name).read_bytes()
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        media_type=MEDIA_TYPES[Path(name).suffix],
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
    )


def url(name: str) -> str:
    """The same-origin URL of a listed asset."""
    if name not in SOURCES:
        raise KeyError(name)
    return f"{ASSETS_PATH}/{name}"
