"""Routes of the browser side: the dashboard page (`/app`), `/assets/{name}` (allow-listed
static files) and the OpenAPI UI's old addresses. Public, outside the schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.web import assets

PUBLIC = {"exclude_from_auth": True}
# An hour, then a revalidation answered 304 by ETag (the files change only on upgrade).
CACHE_CONTROL = "public, max-age=3600"


class AssetController(Controller):
    path = assets.ASSETS_PATH
    include_in_schema = False
    opt = PUBLIC

    @get("/{name:str}", sync_to_thread=False)
    def asset(self, name: FromPath[str], request: Request[Any, Any, Any]) -> Response[bytes]:
        """One listed asset, gzipped when the client accepts it."""
        if name not in assets.SOURCES:
            raise NotFoundException(f"no asset named {name}")
        asset = assets.load(name)
        headers = {"cache-control": CACHE_CONTROL, "etag": asset.etag, "vary": "accept-encoding"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["content-encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)


@cache
def _page() -> bytes:
    return (Path(__file__).parent / "static" / "app.html").read_bytes()


class DashboardPageController(Controller):
    """The dashboard page: static HTML whose script talks to the API like any client."""

    path = "/app"
    include_in_schema = False
    opt = PUBLIC

    @get(["/", "/{rest:path}"], sync_to_thread=False, media_type=MediaType.HTML)
    def page(self) -> bytes:
        return _page()


class DocsRedirectController(Controller):
    """`/schema/elements` (Stoplight Elements, which no Python package ships) now shows
    the same documentation in Swagger UI, served locally."""

    path = "/schema"
    include_in_schema = False
    opt = PUBLIC

    @get(["/elements", "/redoc", "/rapidoc"], sync_to_thread=False)
    def moved(self) -> Redirect:
        return Redirect("/schema/swagger")
