"""HTTP access to one Shopify store: paced, retried, and safe to put in error messages.

`ShopifySession` is the `requests` session under dlt's `RESTClient`: every call waits
for room in the store's leaky bucket (see `pacing`), a 429 waits out `Retry-After`, and
5xx answers, timeouts, dropped connections and truncated bodies are retried with
exponential backoff and full jitter, a bounded number of times. Errors name the method
and URL path only: the token travels in a header and no query string is ever printed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from core.settings import Settings
from core.tenants import validate_shop_domain
from ingestion.pacing import CALL_LIMIT_HEADER, LeakyBucketPacer

PAGE_SIZE = 250  # Shopify's maximum page size
MAX_BACKOFF_SECONDS = 30.0
MAX_THROTTLED_WAIT_SECONDS = 300.0  # a 429 storm longer than this fails the request
# Dropped connections surface as ConnectionError before a response and as
# ChunkedEncodingError (or a truncated body, i.e. invalid JSON) during one.
RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class ShopifyError(RuntimeError):
    """A call to the store failed; the message names the call but holds no secret."""


class ShopifyAuthError(ShopifyError):
    """The store rejected the access token (401/403): retrying cannot help."""


def store_api_url(shop_domain: str, settings: Settings) -> str:
    """The Admin API base URL of a store: the configured endpoint, never user input.

    Only a validated `*.myshopify.com` domain is substituted into the template.
    """
    base = settings.shopify.endpoint_template.format(shop=validate_shop_domain(shop_domain))
    return f"{base}/admin/api/{settings.shopify.api_version}"


def _describe(request: requests.PreparedRequest) -> str:
    return f"{request.method} {urlsplit(request.url or '').path}"


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


class ShopifySession(requests.Session):
    """A session that paces, retries and decodes JSON (decoded body on `response.payload`)."""

    def __init__(
        self,
        access_token: str,
        pacer: LeakyBucketPacer,
        *,
        max_retries: int,
        backoff_seconds: float,
        timeout_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.headers.update({"X-Shopify-Access-Token": access_token, "Accept": "application/json"})
        self.pacer = pacer
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._sleep = sleep

    def _backoff(self, attempt: int) -> None:
        cap = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2**attempt)
        self._sleep(random.uniform(cap / 2, cap))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = self.timeout_seconds
        # Status handling is this loop's job: a response hook (dlt's raise_for_status)
        # would raise on a 429 or 503 before it could be waited out or retried.
        request.hooks = {"response": []}
        failures = 0
        throttled_wait = 0.0
        while True:
            ticket = self.pacer.acquire()
            try:
                response = super().send(request, **kwargs)
            except RETRYABLE_ERRORS as exc:
                self.pacer.release(ticket, None)
                problem = type(exc).__name__
            except BaseException:
                self.pacer.release(ticket, None)
                raise
            else:
                status = response.status_code
                self.pacer.release(
                    ticket, response.headers.get(CALL_LIMIT_HEADER), throttled=status == 429
                )
                if status == 429:
                    wait = _retry_after(response)
                    throttled_wait += wait
                    if throttled_wait > MAX_THROTTLED_WAIT_SECONDS:
                        raise ShopifyError(
                            f"{_describe(request)}: still rate limited (429) after "
                            f"{throttled_wait:.0f} s of Retry-After waits"
                        )
                    self.pacer.backoff(wait)
                    continue
                if status in (401, 403):
                    raise ShopifyAuthError(
                        f"{_describe(request)}: the store rejected the access token ({status})"
                    )
                if status < 500:
                    if status >= 400:
                        raise ShopifyError(f"{_describe(request)}: HTTP {status}")
                    try:
                        response.payload = orjson.loads(response.content)  # type: ignore[attr-defined]
                        return response
                    except orjson.JSONDecodeError:
                        problem = "truncated or invalid JSON body"
                else:
                    problem = f"HTTP {status}"
            failures += 1
            if failures > self.max_retries:
                raise ShopifyError(f"{_describe(request)}: {problem} after {failures} attempts")
            self._backoff(failures - 1)


class ShopifyClient(RESTClient):
    """dlt's REST client on a `ShopifySession`, following Shopify's `Link` header cursors."""

    def __init__(self, base_url: str, session: ShopifySession) -> None:
        super().__init__(base_url=base_url, session=session, paginator=HeaderLinkPaginator())

    @property
    def pacer(self) -> LeakyBucketPacer:
        return self.session.pacer  # type: ignore[attr-defined,no-any-return]

    def extract_response(self, response: requests.Response, data_selector: Any) -> list[Any]:
        """Records of one page: Shopify wraps every list in one key (`{"orders": [...]}`)."""
        return response.payload[data_selector]  # type: ignore[attr-defined,no-any-return]

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One non-paginated call, decoded (shop.json, orders/count.json, ...)."""
        return self.get(path, params=params).payload  # type: ignore[attr-defined,no-any-return]

    def count(self, path: str, params: dict[str, Any]) -> int:
        return int(self.get_json(path, params)["count"])


def connect(shop_domain: str, access_token: str, settings: Settings) -> ShopifyClient:
    """A client for one store, configured from settings."""
    pacer = LeakyBucketPacer(settings.shopify.leak_rate)
    session = ShopifySession(
        access_token,
        pacer,
        max_retries=settings.shopify.max_retries,
        backoff_seconds=settings.shopify.retry_backoff_ms / 1000,
        timeout_seconds=settings.shopify.timeout_seconds,
    )
    return ShopifyClient(store_api_url(shop_domain, settings), session)


def fetch_shop(shop_domain: str, access_token: str, settings: Settings) -> dict[str, Any]:
    """GET shop.json: proves the token works for that store (ShopifyAuthError if not)."""
    client = connect(shop_domain, access_token, settings)
    with client.session:
        shop: dict[str, Any] = client.get_json("shop.json")["shop"]
    return shop
