"""The simulator as a plain ASGI application.

Plain ASGI (no framework) keeps a page to "render records, msgspec-encode, send", and gives
direct access to the connection so a fault can reset it without any response.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from simulator import pagination, truth
from simulator.activity import run_live_activity
from simulator.faults import Faults
from simulator.graphql import bulk, endpoint
from simulator.ratelimit import QueryCostLimit, RateLimit
from simulator.shop import Shop, ShopSpec
from simulator.store import RESOURCES, SINGULAR, ApiError
from simulator.webhooks import DeliveryConfig

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

VERSION = re.compile(r"^\d{4}-\d{2}$|^unstable$")
ID = re.compile(r"^(\d{1,19})\.json$")
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted "
    "service."
)
ERROR_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
MAX_BODY = 5 * 1024 * 1024
READ_AHEAD_PAGES = 4  # per shop
ACCESS_SCOPES = ("read_customers", "read_products", "read_orders", "read_checkouts")
encoder = msgspec.json.Encoder()
Page = tuple[bytes, tuple[tuple[bytes, bytes], ...], bytes | None]


class Response:
    """Status, JSON body and headers of one answer."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None):
        self.status = status
        self.body = body if isinstance(body, bytes) else encoder.encode(body)
        self.headers = headers or []


def _error(exc: ApiError) -> Response:
    return Response(exc.status, {"errors": exc.errors})


class SimulatorApp:
    """Routes Shopify Admin paths per shop and the ``/_sim/`` control surface."""

    def __init__(
        self, shops: list[ShopSpec], *, rate_limit: bool = True, live_interval: float = 0
    ) -> None:
        self.rate_limit = rate_limit
        self.live_interval = live_interval
        self.shops: dict[str, Shop] = {}
        for spec in shops:
            self.add_shop(spec)

    def add_shop(self, spec: ShopSpec) -> Shop:
        """Build and register a shop (ValueError if the name is taken or invalid)."""
        shop = Shop(spec, rate_limit=self.rate_limit)
        if shop.domain in self.shops:
            raise ValueError(f"shop {shop.domain} already exists")
        self.shops[shop.domain] = shop
        return shop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        parts = scope["path"].strip("/").split("/")
        if parts[0] == "_bulk" and len(parts) == 2:
            await self._bulk_file(scope, receive, send, parts[1].removesuffix(".jsonl"))
            return
        try:
            response: Response | None
            if parts[0] == "_sim":
                response = await self._control(scope, receive, parts[1:])
            else:
                response = await self._admin(scope, receive, parts)
        except ApiError as exc:
            response = _error(exc)
        if response is None:  # connection dropped on purpose
            return
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(response.body)).encode()),
            *response.headers,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        live: asyncio.Task | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.live_interval > 0:
                    shops = list(self.shops.values())
                    live = asyncio.create_task(
                        run_live_activity(shops, self.live_interval, seed=len(shops))
                    )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if live is not None:
                    live.cancel()
                for shop in self.shops.values():
                    await shop.bulk.close()
                    await shop.hooks.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _bulk_file(self, scope: Scope, receive: Receive, send: Send, token: str) -> None:
        """A bulk operation's result file (its URL stands in for Shopify's signed URL)."""
        shop = next((s for s in self.shops.values() if s.bulk.file_for(token)), None)
        op = shop.bulk.file_for(token) if shop else None
        drop = None
        if shop is not None and op is not None and shop.faults.download_drops():
            drop = lambda: _drop_connection(receive)  # noqa: E731
        await bulk.serve_file(scope, send, op, drop)

    # admin API --------------------------------------------------------------------------

    async def _admin(self, scope: Scope, receive: Receive, parts: list[str]) -> Response | None:
        shop = self.shops.get(parts[0])
        if shop is None or len(parts) < 4 or parts[1] != "admin":
            raise ApiError(404, "Not Found")
        token = dict(scope["headers"]).get(b"x-shopify-access-token", b"")
        if not hmac.compare_digest(token, shop.profile.token.encode()):
            return Response(401, {"errors": UNAUTHORIZED}, [_call_limit(shop)])
        graphql = parts[2:3] == ["api"] and parts[4:] == ["graphql.json"]
        if not graphql and not shop.bucket.take():  # GraphQL is paced by query cost instead
            headers = [_call_limit(shop), (b"retry-after", b"1.0")]
            return Response(429, {"errors": THROTTLED}, headers)
        call_limit = _call_limit(shop)
        if shop.faults.active:
            fate = shop.faults.next()
            if fate.delay_s:
                await asyncio.sleep(fate.delay_s)
            if fate.drop:
                await _drop_connection(receive)
                return None
            if fate.status:
                return Response(fate.status, {"errors": ERROR_TEXT[fate.status]}, [call_limit])
        try:
            response = await self._admin_route(scope, receive, shop, parts)
        except ApiError as exc:
            response = _error(exc)
        response.headers.append(call_limit)
        return response

    async def _admin_route(
        self, scope: Scope, receive: Receive, shop: Shop, parts: list[str]
    ) -> Response:
        method = scope["method"]
        if parts[2] == "oauth" and parts[3:] == ["access_scopes.json"] and method == "GET":
            return Response(200, {"access_scopes": [{"handle": h} for h in ACCESS_SCOPES]})
        if parts[2] != "api" or not VERSION.match(parts[3]) or len(parts) < 5:
            raise ApiError(404, "Not Found")
        version, rest = parts[3], parts[4:]
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        version_header = (b"x-shopify-api-version", version.encode())
        resource = rest[0].removesuffix(".json")
        if rest == ["graphql.json"] and method == "POST":
            status, body = endpoint.respond(shop, await _raw(receive), version, _base_url(scope))
            response = Response(status, body)
        elif resource == "webhooks":
            response = await self._webhooks(scope, receive, shop, rest, params, version)
        elif method != "GET":
            raise ApiError(404, "Not Found")
        elif rest == ["shop.json"]:
            response = Response(200, {"shop": _fields(shop.shop_json(), params)})
        elif resource not in RESOURCES:
            raise ApiError(404, "Not Found")
        elif len(rest) == 1 and rest[0].endswith(".json"):
            response = self._list(scope, shop, resource, params, version)
        elif rest[1:] == ["count.json"]:
            req = pagination.parse(resource, params, shop.profile.clock, shop.page_key)
            count = pagination.count(shop.store.table(resource), req.query)
            response = Response(200, {"count": count})
        elif len(rest) == 2 and (m := ID.match(rest[1])):
            table, i = shop.store.find(resource, int(m.group(1)))
            response = Response(200, {SINGULAR[resource]: _fields(table.get(i), params)})
        else:
            raise ApiError(404, "Not Found")
        response.headers.append(version_header)
        return response

    def _list(
        self, scope: Scope, shop: Shop, resource: str, params: dict[str, str], version: str
    ) -> Response:
        key = (resource, version, scope["query_string"], _base_url(scope))
        hit = shop.read_ahead.pop(key, None)
        if hit is not None and hit[0] == shop.store.version:
            page = hit[1]
        else:
            page = self._page(scope, shop, resource, params, version)
        body, headers, next_query = page
        if next_query is not None:
            asyncio.get_running_loop().call_soon(
                self._read_ahead, {**scope, "query_string": next_query}, shop, resource, version
            )
        return Response(200, body, list(headers))

    def _page(
        self, scope: Scope, shop: Shop, resource: str, params: dict[str, str], version: str
    ) -> Page:
        """Encoded page, its headers, and the query string of the next page."""
        req = pagination.parse(resource, params, shop.profile.clock, shop.page_key)
        table = shop.store.table(resource)
        found, prev_q, next_q = pagination.page(table, req)
        get, fields = table.get, req.fields
        body = encoder.encode({resource: [pagination.project(get(i), fields) for i in found]})
        headers: tuple[tuple[bytes, bytes], ...] = ()
        if prev_q or next_q:
            url = f"{_base_url(scope)}/{shop.domain}/admin/api/{version}/{resource}.json"
            link = pagination.link_header(url, req, shop.page_key, prev_q, next_q)
            headers = ((b"link", link.encode()),)
        next_query = None
        if next_q is not None:
            next_query = pagination.link_query(req, shop.page_key, next_q).encode()
        return body, headers, next_query

    def _read_ahead(self, scope: Scope, shop: Shop, resource: str, version: str) -> None:
        """Render the next page while the client is still parsing this one, so one server
        process serves a sequential walk much faster. Any mutation bumps the store version,
        which voids pages rendered before it."""
        key = (resource, version, scope["query_string"], _base_url(scope))
        if key in shop.read_ahead:
            return
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        state = shop.store.version
        try:
            page = self._page(scope, shop, resource, params, version)
        except ApiError:
            return
        shop.read_ahead[key] = (state, page)
        while len(shop.read_ahead) > READ_AHEAD_PAGES:
            shop.read_ahead.pop(next(iter(shop.read_ahead)))

    async def _webhooks(
        self,
        scope: Scope,
        receive: Receive,
        shop: Shop,
        rest: list[str],
        params: dict[str, str],
        version: str,
    ) -> Response:
        method, hooks = scope["method"], shop.hooks
        if rest == ["webhooks.json"] and method == "GET":
            return Response(200, {"webhooks": [_fields(s, params) for s in hooks.listing(params)]})
        if rest == ["webhooks.json"] and method == "POST":
            return Response(201, {"webhook": hooks.subscribe(await _json(receive), version)})
        if rest == ["webhooks", "count.json"] and method == "GET":
            return Response(200, {"count": len(hooks.listing(params))})
        m = ID.match(rest[1]) if len(rest) == 2 else None
        if m and method == "GET":
            return Response(200, {"webhook": _fields(hooks.get(int(m.group(1))), params)})
        if m and method == "DELETE":
            hooks.unsubscribe(int(m.group(1)))
            return Response(200, {})
        raise ApiError(404, "Not Found")

    # control surface --------------------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, parts: list[str]) -> Response:
        method = scope["method"]
        base = _base_url(scope)
        if parts == ["shops"]:
            if method == "GET":
                return Response(200, [s.info(base) for s in self.shops.values()])
            if method == "POST":
                try:
                    spec = msgspec.json.decode(await _raw(receive) or b"{}", type=ShopSpec)
                    added = self.add_shop(spec)
                except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
                    raise ApiError(422, str(exc)) from None
                return Response(201, added.info(base))
        shop = self.shops.get(parts[0]) if parts else None
        if shop is None:
            raise ApiError(404, "Not Found")
        action = parts[1:]
        if action == [] and method == "GET":
            return Response(200, shop.info(base))
        if action == ["truth"] and method == "GET":
            return Response(200, truth.compute(shop.store))
        if action == ["deliveries"] and method == "GET":
            return Response(200, {"deliveries": shop.hooks.log()})
        if len(action) == 1 and action[0] in CONFIGS:
            return await self._configure(shop, action[0], method, receive)
        if action and action[0] in RESOURCES:
            return await self._mutate(shop, action, method, receive)
        raise ApiError(404, "Not Found")

    async def _configure(self, shop: Shop, name: str, method: str, receive: Receive) -> Response:
        kind, current, apply = CONFIGS[name]
        if method == "PUT":
            raw = await _raw(receive)
            try:
                base = msgspec.to_builtins(current(shop))
                base.update(msgspec.json.decode(raw or b"{}"))
                apply(shop, msgspec.convert(base, kind))
            except (msgspec.ValidationError, msgspec.DecodeError, AttributeError) as exc:
                raise ApiError(422, str(exc)) from None
        elif method != "GET":
            raise ApiError(404, "Not Found")
        return Response(200, current(shop))

    async def _mutate(
        self, shop: Shop, action: list[str], method: str, receive: Receive
    ) -> Response:
        resource = action[0]
        singular = SINGULAR[resource]
        record_id = int(action[1]) if len(action) == 2 and action[1].isdigit() else None
        if len(action) == 1 and method == "POST":
            rec, status = shop.mutate("create", resource, fields=await _object(receive)), 201
        elif record_id is not None and method == "PUT":
            rec = shop.mutate("update", resource, record_id, await _object(receive))
            status = 200
        elif record_id is not None and method == "DELETE":
            rec, status = shop.mutate("delete", resource, record_id), 200
        else:
            raise ApiError(404, "Not Found")
        return Response(status, {singular: rec} if rec is not None else {})


CONFIGS: dict[str, tuple[type, Callable[[Shop], Any], Callable[[Shop, Any], None]]] = {
    "faults": (Faults, lambda s: s.faults.config, lambda s, c: s.faults.configure(c)),
    "rate_limit": (RateLimit, lambda s: s.bucket.config, lambda s, c: s.bucket.configure(c)),
    "query_cost": (QueryCostLimit, lambda s: s.points.config, lambda s, c: s.points.configure(c)),
    "bulk": (bulk.BulkConfig, lambda s: s.bulk.config, lambda s, c: s.bulk.configure(c)),
    "webhook_delivery": (
        DeliveryConfig,
        lambda s: s.hooks.config,
        lambda s, c: s.hooks.configure(c),
    ),
}


def _call_limit(shop: Shop) -> tuple[bytes, bytes]:
    return (b"x-shopify-shop-api-call-limit", shop.bucket.header().encode())


def _fields(rec: dict, params: dict[str, str]) -> dict:
    fields = params.get("fields")
    if not fields:
        return rec
    return pagination.project(rec, [f.strip() for f in fields.split(",")])


def _base_url(scope: Scope) -> str:
    host = dict(scope["headers"]).get(b"host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}".encode()
    return f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}"


async def _raw(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "Request entity too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(receive: Receive) -> Any:
    raw = await _raw(receive)
    try:
        return msgspec.json.decode(raw) if raw.strip() else {}
    except msgspec.DecodeError:
        raise ApiError(400, "Invalid JSON body") from None


async def _object(receive: Receive) -> dict:
    body = await _json(receive)
    if not isinstance(body, dict):
        raise ApiError(400, "Body must be a JSON object")
    return body


async def _drop_connection(receive: Receive) -> None:
    """Reset the TCP connection without a response (uvicorn keeps its transport on the
    request cycle that ``receive`` is bound to); SO_LINGER 0 turns the close into an RST."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("simulated connection drop")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)  # let the server notice the disconnect before we return
