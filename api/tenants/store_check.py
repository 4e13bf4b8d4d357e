"""Prove a Shopify access token works for its store before it is stored."""

from __future__ import annotations

import anyio.to_thread
from litestar.exceptions import ClientException

from api.errors import BadGatewayException
from core.settings import Settings
from ingestion.graphql import ShopifyAuthError, ShopifyError, fetch_shop

# A person is waiting: fail fast instead of the sync's patient retry schedule.
_CHECK_RETRIES = 1
_CHECK_TIMEOUT_SECONDS = 10


async def verify_store_token(shop_domain: str, access_token: str, settings: Settings) -> None:
    """Read the `shop` with the token; 400 if the store rejects it, 502 if unreachable."""
    shopify = settings.shopify.model_copy(
        update={
            "max_retries": min(settings.shopify.max_retries, _CHECK_RETRIES),
            "timeout_seconds": min(settings.shopify.timeout_seconds, _CHECK_TIMEOUT_SECONDS),
        }
    )
    quick = settings.model_copy(update={"shopify": shopify})
    try:
        shop = await anyio.to_thread.run_sync(fetch_shop, shop_domain, access_token, quick)
    except ShopifyAuthError:
        raise ClientException("the store rejected the Shopify access token") from None
    except ShopifyError:
        raise BadGatewayException("could not reach the store to check the access token") from None
    reported = shop.get("myshopifyDomain")
    if reported and reported != shop_domain:
        raise ClientException("the access token belongs to another store")
