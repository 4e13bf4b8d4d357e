"""Bulk lines become the raw contract's rows: every column, exact money, deterministic
link columns, and one clear error for a malformed line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.flatten import FlattenError, flatten, live_ids
from ingestion.raw_contract import BY_NAME, tables_of

ORDER = "gid://shopify/Order/1001"
LINE_1, LINE_2 = "gid://shopify/LineItem/11", "gid://shopify/LineItem/12"
REFUND = "gid://shopify/Refund/31"


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


ORDER_LINES = [
    {
        "id": ORDER,
        "name": "#1001",
        "number": 1001,
        "email": "",
        "createdAt": "2024-03-01T10:00:00+01:00",
        "updatedAt": "2024-03-02T10:00:00Z",
        "processedAt": "2024-03-01T09:00:00Z",
        "cancelledAt": None,
        "cancelReason": "CUSTOMER",
        "closedAt": "2024-03-03T00:00:00Z",
        "test": False,
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
        "currencyCode": "EUR",
        "subtotalPriceSet": money("30.10"),
        "totalPriceSet": money("36.12"),
        "totalTaxSet": money("1.02"),
        "totalDiscountsSet": money("2.00"),
        "totalShippingPriceSet": money("5.00"),
        "discountCodes": ["SPRING", "VIP"],
        "customer": {
            "id": "gid://shopify/Customer/77",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "defaultEmailAddress": {"emailAddress": "ada@example.com"},
        },
        "refunds": [
            {
                "id": REFUND,
                "createdAt": "2024-03-04T00:00:00Z",
                "transactions": {
                    "edges": [
                        {
                            "node": {
                                "id": "gid://shopify/OrderTransaction/41",
                                "kind": "REFUND",
                                "status": "FAILURE",
                                "gateway": "bogus",
                                "createdAt": "2024-03-04T00:00:00Z",
                                "processedAt": "2024-03-04T00:00:01Z",
                                "amountSet": money("3.33"),
                            }
                        },
                        {
                            "node": {
                                "id": "gid://shopify/OrderTransaction/42",
                                "kind": "REFUND",
                                "status": "SUCCESS",
                                "gateway": "bogus",
                                "createdAt": "2024-03-04T00:00:02Z",
                                "processedAt": "2024-03-04T00:00:03Z",
                                "amountSet": money("3.33"),
                            }
                        },
                    ]
                },
            }
        ],
    },
    {
        "id": LINE_1,
        "title": "Teapot",
        "variantTitle": "Blue",
        "name": "Teapot - Blue",
        "sku": "TP-1",
        "vendor": "Acme",
        "quantity": 3,
        "isGiftCard": False,
        "originalUnitPriceSet": money("10.01"),
        "variant": {"id": "gid://shopify/ProductVariant/501"},
        "product": {"id": "gid://shopify/Product/500"},
        "discountAllocations": [
            {"allocatedAmountSet": money("1.50"), "discountApplication": {"index": 0}},
            {"allocatedAmountSet": money("0.50"), "discountApplication": {"index": 1}},
        ],
        "__parentId": ORDER,
    },
    {
        "id": LINE_2,
        "title": "Gift wrap",
        "variantTitle": None,
        "name": "Gift wrap",
        "sku": None,
        "vendor": None,
        "quantity": 1,
        "isGiftCard": True,
        "originalUnitPriceSet": money("2.07"),
        "variant": None,
        "product": None,
        "discountAllocations": [],
        "__parentId": ORDER,
    },
    {
        "id": "gid://shopify/ShippingLine/61",
        "title": "Standard",
        "code": "STD",
        "originalPriceSet": money("5.00"),
        "__parentId": ORDER,
    },
    {"id": "gid://shopify/Order/1002", "name": "#1002", "number": 1002, "refunds": []},
]


def write(tmp_path: Path, lines: list[dict], name: str = "lines.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def rows(resource: str, *paths: Path) -> dict[str, list[dict]]:
    found: dict[str, list[pa.RecordBatch]] = {}
    for table, batch in flatten(resource, list(paths)):
        found.setdefault(table, []).append(batch)
    return {
        table: sorted(
            pa.Table.from_batches(batches).to_pylist(), key=lambda r: (r["_dlt_id"], str(r))
        )
        for table, batches in found.items()
    }


def test_every_order_table_and_column_from_bulk_lines(tmp_path):
    found = rows("orders", write(tmp_path, ORDER_LINES))
    assert list(found) == [t.name for t in tables_of("orders")]  # root first, all children

    first, second = found["orders"]
    assert first == {
        "id": 1001,
        "name": "#1001",
        "order_number": 1001,
        "email": None,  # an empty email is no email
        "created_at": datetime(2024, 3, 1, 9, tzinfo=UTC),
        "updated_at": datetime(2024, 3, 2, 10, tzinfo=UTC),
        "processed_at": datetime(2024, 3, 1, 9, tzinfo=UTC),
        "cancelled_at": None,
        "cancel_reason": "customer",
        "closed_at": datetime(2024, 3, 3, tzinfo=UTC),
        "test": False,
        "financial_status": "partially_refunded",
        "fulfillment_status": "partial",
        "currency": "EUR",
        "total_line_items_price": Decimal("32.10"),  # 3 x 10.01 + 2.07: no such GraphQL field
        "total_discounts": Decimal("2.00"),
        "subtotal_price": Decimal("30.10"),
        "total_shipping_price_set__shop_money__amount": Decimal("5.00"),
        "total_tax": Decimal("1.02"),
        "total_price": Decimal("36.12"),
        "customer__id": 77,
        "customer__email": "ada@example.com",
        "customer__first_name": "Ada",
        "customer__last_name": "Lovelace",
        "_dlt_id": ORDER,
        "_xeno_deleted_at": None,
    }
    assert second["id"] == 1002 and second["total_line_items_price"] == 0
    assert second["fulfillment_status"] is None and second["customer__id"] is None

    links = {"_dlt_parent_id": ORDER, "_dlt_root_id": ORDER}
    assert found["orders__line_items"] == [
        {
            "id": 11,
            "order_id": 1001,
            "product_id": 500,
            "variant_id": 501,
            "title": "Teapot",
            "variant_title": "Blue",
            "name": "Teapot - Blue",
            "sku": "TP-1",
            "vendor": "Acme",
            "price": Decimal("10.01"),
            "quantity": 3,
            "gift_card": False,
            "_dlt_id": LINE_1,
            **links,
            "_dlt_list_idx": 0,
        },
        {
            "id": 12,
            "order_id": 1001,
            "product_id": None,  # a custom line item
            "variant_id": None,
            "title": "Gift wrap",
            "variant_title": None,
            "name": "Gift wrap",
            "sku": None,
            "vendor": None,
            "price": Decimal("2.07"),
            "quantity": 1,
            "gift_card": True,
            "_dlt_id": LINE_2,
            **links,
            "_dlt_list_idx": 1,
        },
    ]
    assert found["orders__line_items__discount_allocations"] == [
        {
            "amount": Decimal(amount),
            "discount_application_index": n,
            "_dlt_id": f"{LINE_1}#{n}",
            "_dlt_parent_id": LINE_1,
            "_dlt_root_id": ORDER,
            "_dlt_list_idx": n,
        }
        for n, amount in enumerate(["1.50", "0.50"])
    ]
    assert found["orders__shipping_lines"] == [
        {
            "id": 61,
            "title": "Standard",
            "code": "STD",
            "price": Decimal("5.00"),
            "_dlt_id": "gid://shopify/ShippingLine/61",
            **links,
            "_dlt_list_idx": 0,
        }
    ]
    assert found["orders__discount_codes"] == [
        {"code": code, "_dlt_id": f"{ORDER}#{n}", **links, "_dlt_list_idx": n}
        for n, code in enumerate(["SPRING", "VIP"])
    ]
    assert found["orders__refunds"] == [
        {
            "id": 31,
            "order_id": 1001,
            "created_at": datetime(2024, 3, 4, tzinfo=UTC),
            "_dlt_id": REFUND,
            **links,
            "_dlt_list_idx": 0,
        }
    ]
    transactions = found["orders__refunds__transactions"]
    assert [(t["id"], t["status"], t["_dlt_list_idx"]) for t in transactions] == [
        (41, "failure", 0),
        (42, "success", 1),
    ]
    assert transactions[1] == {
        "id": 42,
        "order_id": 1001,
        "kind": "refund",
        "status": "success",
        "amount": Decimal("3.33"),
        "gateway": "bogus",
        "created_at": datetime(2024, 3, 4, 0, 0, 2, tzinfo=UTC),
        "processed_at": datetime(2024, 3, 4, 0, 0, 3, tzinfo=UTC),
        "_dlt_id": "gid://shopify/OrderTransaction/42",
        "_dlt_parent_id": REFUND,
        "_dlt_root_id": ORDER,
        "_dlt_list_idx": 1,
    }


def test_batches_have_the_contract_types(tmp_path):
    for table, batch in flatten("orders", [write(tmp_path, ORDER_LINES)]):
        assert batch.schema.names == list(BY_NAME[table].columns)
        money_columns = [n for n, kind in BY_NAME[table].columns.items() if kind.startswith("DEC")]
        for name in money_columns:
            assert batch.schema.field(name).type == pa.decimal128(18, 3)


def test_customers_products_checkouts_and_the_shop(tmp_path):
    customer = {
        "id": "gid://shopify/Customer/7",
        "firstName": "Grace",
        "lastName": "Hopper",
        "state": "ENABLED",
        "tags": ["vip", "newsletter"],
        "verifiedEmail": True,
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00Z",
        "defaultEmailAddress": {"emailAddress": "g@example.com", "marketingState": "SUBSCRIBED"},
        "defaultPhoneNumber": {"phoneNumber": "+15550100"},
        "defaultAddress": {
            "city": "Arlington",
            "province": "Virginia",
            "country": "United States",
            "countryCodeV2": "US",
        },
    }
    (row,) = rows("customers", write(tmp_path, [customer], "c.jsonl"))["customers"]
    assert row | {"created_at": None, "updated_at": None} == {
        "id": 7,
        "email": "g@example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "phone": "+15550100",
        "state": "enabled",
        "tags": "vip, newsletter",
        "verified_email": True,
        "created_at": None,
        "updated_at": None,
        "default_address__city": "Arlington",
        "default_address__province": "Virginia",
        "default_address__country": "United States",
        "default_address__country_code": "US",
        "email_marketing_consent__state": "subscribed",
        "_dlt_id": "gid://shopify/Customer/7",
        "_xeno_deleted_at": None,
    }

    product = {"id": "gid://shopify/Product/5", "title": "Mug", "status": "DRAFT", "tags": []}
    variant = {
        "id": "gid://shopify/ProductVariant/9",
        "title": "Large",
        "sku": "MUG-L",
        "price": "12.50",
        "compareAtPrice": None,
        "position": 1,
        "inventoryQuantity": 4,
        "__parentId": "gid://shopify/Product/5",
    }
    found = rows("products", write(tmp_path, [product, variant], "p.jsonl"))
    assert found["products"][0]["status"] == "draft" and found["products"][0]["tags"] == ""
    (variant_row,) = found["products__variants"]
    assert (variant_row["id"], variant_row["product_id"], variant_row["price"]) == (
        9,
        5,
        Decimal("12.50"),
    )
    assert variant_row["_dlt_root_id"] == "gid://shopify/Product/5"

    checkout = "gid://shopify/AbandonedCheckout/3"
    found = rows(
        "abandoned_checkouts",
        write(
            tmp_path,
            [
                {"id": checkout, "totalPriceSet": money("9.99"), "customer": None},
                {
                    "title": "Mug",
                    "quantity": 2,
                    "originalTotalPriceSet": money("19.98"),
                    "originalUnitPriceSet": money("9.99"),
                    "__parentId": checkout,
                },
            ],
            "k.jsonl",
        ),
    )
    assert found["abandoned_checkouts"][0]["currency"] == "EUR"
    (line,) = found["abandoned_checkouts__line_items"]
    assert (line["_dlt_id"], line["line_price"], line["_dlt_list_idx"]) == (
        f"{checkout}#0",
        Decimal("19.98"),
        0,
    )

    shop = {
        "id": "gid://shopify/Shop/42",
        "name": "Demo",
        "myshopifyDomain": "demo.myshopify.com",
        "primaryDomain": {"host": "demo.example"},
        "currencyCode": "JPY",
        "ianaTimezone": "Asia/Tokyo",
        "plan": {"publicDisplayName": "Basic"},
    }
    (shop_row,) = rows("shop", write(tmp_path, [shop], "s.jsonl"))["shop"]
    assert (shop_row["id"], shop_row["domain"], shop_row["iana_timezone"]) == (
        42,
        "demo.example",
        "Asia/Tokyo",
    )


def test_a_malformed_line_names_its_file_and_line(tmp_path):
    good = json.dumps({"id": "gid://shopify/Customer/1"})
    path = tmp_path / "customers.jsonl"
    path.write_text(f'{good}\n{good}\n{{"id": "gid://shopify/Customer/3",\n{good}\n')
    with pytest.raises(FlattenError, match=r"customers\.jsonl, line 3: malformed JSON"):
        list(flatten("customers", [path]))


def test_a_value_of_the_wrong_type_fails_the_whole_flatten(tmp_path):
    path = write(tmp_path, [{"id": "gid://shopify/Order/1", "number": "not a number"}])
    with pytest.raises(FlattenError, match=r"lines\.jsonl"):
        list(flatten("orders", [path]))


def test_several_files_and_the_live_id_listing(tmp_path):
    first = write(tmp_path, ORDER_LINES[:4], "a.jsonl")
    second = write(tmp_path, ORDER_LINES[4:], "b.jsonl")
    found = rows("orders", first, second)
    assert [r["id"] for r in found["orders"]] == [1001, 1002]
    ids = write(tmp_path, [{"id": f"gid://shopify/Order/{n}"} for n in (5, 6, 7)], "ids.jsonl")
    assert [i for batch in live_ids(ids) for i in batch.column(0).to_pylist()] == [5, 6, 7]


def test_large_inputs_flatten_in_a_child_process_alike(tmp_path, monkeypatch):
    path = write(tmp_path, ORDER_LINES)
    in_process = rows("orders", path)
    monkeypatch.setattr("ingestion.flatten.IN_PROCESS_BYTES", 0)
    assert rows("orders", path) == in_process
    broken = tmp_path / "broken.jsonl"
    broken.write_text(path.read_text() + "{\n")
    with pytest.raises(FlattenError, match=r"broken\.jsonl, line 6: malformed JSON"):
        list(flatten("orders", [broken]))


def test_a_record_read_twice_keeps_its_last_version_and_only_its_lines(tmp_path):
    newer = {**ORDER_LINES[0], "updatedAt": "2024-03-09T00:00:00Z", "discountCodes": []}
    line = {**ORDER_LINES[2], "quantity": 4}
    found = rows("orders", write(tmp_path, [*ORDER_LINES, newer, line]))
    order = next(r for r in found["orders"] if r["id"] == 1001)
    assert order["updated_at"] == datetime(2024, 3, 9, tzinfo=UTC)
    assert [(r["id"], r["quantity"]) for r in found["orders__line_items"]] == [(12, 4)]
    assert "orders__discount_codes" not in found and "orders__shipping_lines" not in found
    assert [r["id"] for r in found["orders"]] == [1001, 1002]
