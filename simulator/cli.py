"""``xeno simulator serve``: a local Shopify Admin API for development and demos."""

from __future__ import annotations

import click
import msgspec

from simulator import money
from simulator.ratelimit import PLANS
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
@click.option(
    "--orders",
    default="500",
    show_default=True,
    help="Orders per shop: one number for all, or a comma list (shop 1, shop 2, ...).",
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--rate-limit", type=click.Choice(["on", "off"]), default="on", show_default=True)
@click.option(
    "--plan",
    type=click.Choice(list(PLANS)),
    default="standard",
    show_default=True,
    help="The shops' GraphQL plan (point bucket and restore rate).",
)
@click.option(
    "--live",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between live new orders/checkouts across the shops (0 = off).",
)
def serve_command(
    host: str,
    port: int,
    n_shops: int,
    orders: str,
    seed: int,
    rate_limit: str,
    plan: str,
    live: float,
) -> None:
    """Serve demo-1 .. demo-N shops, each in its own currency and time zone."""
    sizes = _sizes(orders, n_shops)
    specs = []
    for n in range(n_shops):
        currency = CURRENCY_CYCLE[n % len(CURRENCY_CYCLE)]
        specs.append(
            ShopSpec(
                name=f"demo-{n + 1}",
                orders=sizes[n],
                seed=seed,
                currency=currency,
                timezone=money.CURRENCIES[currency][2],
                plan=plan,
            )
        )
    config = SimConfig(
        shops=specs, host=host, port=port, rate_limit=rate_limit == "on", live_interval=live
    )
    click.echo(f"building {n_shops} shop(s) with {', '.join(map(str, sizes))} orders ...")
    try:
        serve(config, on_ready=_announce)
    except (OSError, ValueError, msgspec.ValidationError) as exc:
        raise click.ClickException(str(exc)) from exc


def _sizes(orders: str, n_shops: int) -> list[int]:
    """`--orders`: one size for every shop, or one per shop."""
    try:
        sizes = [int(part) for part in orders.split(",")]
    except ValueError:
        raise click.BadParameter(
            "expected a number or a comma list of numbers", param_hint="--orders"
        ) from None
    if len(sizes) == 1:
        sizes *= n_shops
    if len(sizes) != n_shops or not all(0 <= size <= 10_000_000 for size in sizes):
        raise click.BadParameter(
            f"give one size or {n_shops} sizes, each 0..10,000,000", param_hint="--orders"
        )
    return sizes


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
