"""``xeno simulator serve``: a local Shopify Admin API for development and demos."""

from __future__ import annotations

import click
import msgspec

from simulator import money
from simulator.server import RunningSimulator, SimConfig, serve
from simulator.shop import ShopSpec

CURRENCY_CYCLE = ("USD", "EUR", "GBP", "INR", "JPY", "AUD")


@click.group()
def simulator() -> None:
    """Shopify simulator: shops, data, faults and webhooks for offline work."""


@simulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--shops", "n_shops", default=2, show_default=True, type=click.IntRange(1, 100))
@click.option("--orders", default=500, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--rate-limit", type=click.Choice(["on", "off"]), default="on", show_default=True)
def serve_command(
    host: str, port: int, n_shops: int, orders: int, seed: int, rate_limit: str
) -> None:
    """Serve demo-1 .. demo-N shops, each in its own currency and time zone."""
    specs = []
    for n in range(n_shops):
        currency = CURRENCY_CYCLE[n % len(CURRENCY_CYCLE)]
        specs.append(
            ShopSpec(
                name=f"demo-{n + 1}",
                orders=orders,
                seed=seed,
                currency=currency,
                timezone=money.CURRENCIES[currency][2],
            )
        )
    config = SimConfig(shops=specs, host=host, port=port, rate_limit=rate_limit == "on")
    click.echo(f"building {n_shops} shop(s) with {orders} orders each ...")
    try:
        serve(config, on_ready=_announce)
    except (OSError, ValueError, msgspec.ValidationError) as exc:
        raise click.ClickException(str(exc)) from exc


def _announce(sim: RunningSimulator) -> None:
    click.echo(f"simulator listening on {sim.base_url}")
    click.echo(f"endpoint template: {sim.endpoint_template}")
    for shop in sim.shops:
        click.echo(
            f"  {shop.domain}  token={shop.token}  webhook_secret={shop.webhook_secret}  "
            f"{shop.currency} {shop.timezone}"
        )
    click.echo(f"control surface: {sim.base_url}/_sim/shops")


if __name__ == "__main__":
    simulator()
