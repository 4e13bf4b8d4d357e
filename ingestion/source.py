"""The Shopify dlt source: one resource per raw root table, fed Arrow batches.

Each resource (`shop`, `customers`, `products`, `orders`, `abandoned_checkouts`) loads the
batches `ingestion.flatten` produces for its root table and its child tables, through dlt's
Arrow path (no row-by-row normalisation). Every table is declared from
`ingestion.raw_contract`, so its columns exist with their types even while all null.

Child tables are dlt *nested* tables of their root (`parent`, and the `row_key` /
`parent_key` / `root_key` link columns), merged with the `delete-insert` strategy on the
root's `id`: dlt replaces a re-delivered record's root row and all of its child rows in one
merge transaction, including child tables that got no rows in this load (an order edited
down to fewer lines, discount allocations that went away).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import cache
from typing import Any

import dlt
import dlt.extract.extract
import pyarrow as pa  # type: ignore[import-untyped]
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.hints import TResourceHints
from dlt.sources import DltResource

from ingestion.raw_contract import (
    DLT_ID,
    DLT_PARENT_ID,
    DLT_ROOT_ID,
    RESOURCES,
    RawTable,
    tables_of,
)

SOURCE_NAME = "shopify"
CURSOR = "updated_at"
MERGE = {"disposition": "merge", "strategy": "delete-insert"}

Batches = Iterable[tuple[str, pa.RecordBatch]]

_TYPES: dict[str, TColumnSchema] = {
    "BIGINT": {"data_type": "bigint"},
    "VARCHAR": {"data_type": "text"},
    "TIMESTAMPTZ": {"data_type": "timestamp", "timezone": True},
    "BOOLEAN": {"data_type": "bool"},
}


def _column(kind: str) -> TColumnSchema:
    if kind.startswith("DECIMAL("):
        precision, scale = kind.removeprefix("DECIMAL(").rstrip(")").split(",")
        return {"data_type": "decimal", "precision": int(precision), "scale": int(scale)}
    return dict(_TYPES[kind])  # type: ignore[return-value]


def dlt_columns(table: RawTable) -> dict[str, TColumnSchema]:
    """The table's contract columns as dlt column schemas, with the link columns' roles."""
    columns = {name: {**_column(kind), "nullable": True} for name, kind in table.columns.items()}
    columns[DLT_ID] |= {"row_key": True, "nullable": False}
    if table.parent is None:
        columns["id"] |= {"primary_key": True, "nullable": False}
        columns[DLT_ID]["unique"] = True
    else:
        columns[DLT_PARENT_ID] |= {"parent_key": True, "nullable": False}
        columns[DLT_ROOT_ID] |= {"root_key": True, "nullable": False}
    return columns  # type: ignore[return-value]


@cache
def table_hints(table_name: str) -> TResourceHints:
    """dlt hints of one raw table: a merged root, or a nested table of its parent."""
    (table,) = (t for t in tables_of(table_name.split("__")[0]) if t.name == table_name)
    if table.parent is None:
        return dlt.mark.make_hints(
            table_name=table.name,
            write_disposition=MERGE,  # type: ignore[arg-type]
            primary_key="id",
            columns=dlt_columns(table),
        )
    return dlt.mark.make_hints(
        table_name=table.name, parent_table_name=table.parent, columns=dlt_columns(table)
    )


def raw_resource(
    resource: str, batches: Batches = (), cursor: datetime | None = None
) -> DltResource:
    """One root table's resource: its tables' batches; `cursor` is committed with them."""

    @dlt.resource(  # type: ignore[call-overload, untyped-decorator]
        name=resource, write_disposition=MERGE
    )
    def rows() -> Iterator[Any]:
        for table, batch in batches:
            yield dlt.mark.with_hints(batch, table_hints(table), create_table_variant=True)
        if cursor is not None:
            dlt.current.resource_state()[CURSOR] = cursor.isoformat()

    resource_: DltResource = rows
    return resource_


@dlt.source(name=SOURCE_NAME)
def shopify_source(
    batches: Mapping[str, Batches] | None = None,
    cursors: Mapping[str, datetime | None] | None = None,
) -> list[DltResource]:
    """Every raw resource; those without batches load nothing (select with `with_resources`)."""
    batches, cursors = batches or {}, cursors or {}
    return [raw_resource(name, batches.get(name, ()), cursors.get(name)) for name in RESOURCES]


def _metrics_by_root_resource(metrics: Any, key: Any) -> Any:
    """dlt 1.31 sums extract metrics per resource by each table's `resource`, which nested
    tables do not carry (its own normaliser, not extract, usually writes them): a nested
    table's rows count for its root table's resource."""

    def resource_of(table_name: str) -> Any:
        try:
            return key(table_name)
        except KeyError:
            return key(table_name.split("__")[0])

    return _aggregate_job_metrics(metrics, resource_of)


_aggregate_job_metrics = dlt.extract.extract.aggregate_job_metrics
dlt.extract.extract.aggregate_job_metrics = _metrics_by_root_resource  # type: ignore[assignment]
