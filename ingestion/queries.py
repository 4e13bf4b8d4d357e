"""What Xeno reads from Shopify's GraphQL Admin API: one selection per resource.

The same node selection serves the three ways records arrive, so they meet in the same
raw rows (see `ingestion.flatten`):

- a **bulk operation** (`bulk_query`): Shopify writes every node as one JSONL line and
  every node of a nested *connection* as a line of its own after its parent, carrying
  `__parentId`; plain lists (`refunds`, `discountAllocations`, `discountCodes`) stay
  inline in their parent's line;
- a **paged query** (`page_query`): the same nodes inside `edges { node }`, which
  `ingestion.lines` rewrites into bulk lines;
- a **webhook** (REST JSON), which `ingestion.lines` also rewrites into bulk lines.

Names are Shopify's own for API version 2026-10. A bulk operation reads nested
connections whole. A paged query must fit Shopify's 1,000-point limit per query, so it
asks for a few nested nodes (`PAGE_NESTED`); a page holding a full nested connection
(`Resource.truncated`) is read again by a bulk operation instead (`ingestion.sync`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MONEY = "shopMoney { amount currencyCode }"
# Nested page sizes: a bulk operation has no cost limit (it reads connections whole);
# a paged order costs about 230 points with these, so about four orders fit a query.
BULK_NESTED = {"LINES": 250, "FEW": 250}
PAGE_NESTED = {"LINES": 20, "FEW": 5}
NESTED = re.compile(r"(\w+)\(first: (LINES|FEW)\)")


@dataclass(frozen=True)
class Resource:
    """A root connection of the QueryRoot read as one raw table family."""

    name: str  # the raw table (and dlt resource) name
    field: str  # the QueryRoot connection
    type_name: str  # the GraphQL type, as in the GID `gid://shopify/<type>/<id>`
    selection: str  # the node's fields; nested page sizes as LINES / FEW
    sort_key: str = "UPDATED_AT"  # abandoned checkouts cannot sort by update time

    def _selection(self, sizes: dict[str, int]) -> str:
        selection = self.selection
        for token, size in sizes.items():
            selection = selection.replace(f"first: {token}", f"first: {size}")
        return selection

    @property
    def page_selection(self) -> str:
        """The node's fields as a paged query asks for them (small nested pages)."""
        return self._selection(PAGE_NESTED)

    def bulk_query(self, search: str | None = None) -> str:
        """The document of a bulk operation over every (or every matching) node."""
        args = f'(query: "{_escape(search)}")' if search else ""
        selection = self._selection(BULK_NESTED)
        return f"{{ {self.field}{args} {{ edges {{ node {{ {selection} }} }} }} }}"

    def page_query(self) -> str:
        """One page of nodes matching a search, by `sort_key` (oldest change first).

        Variables: `first` (at most 250), `after` (a cursor or null), `query` (search).
        """
        return (
            "query Page($first: Int!, $after: String, $query: String) { "
            f"{self.field}(first: $first, after: $after, query: $query, "
            f"sortKey: {self.sort_key}) {{ pageInfo {{ hasNextPage endCursor }} "
            f"edges {{ node {{ {self.page_selection} }} }} }} }}"
        )

    def truncated(self, node: Any) -> bool:
        """Whether a paged node holds a nested connection filled to its page size (it may
        have more nodes than the page query read), at any depth."""
        sizes = {name: PAGE_NESTED[token] for name, token in NESTED.findall(self.selection)}
        return _full(node, sizes)

    def ids_query(self) -> str:
        """A bulk operation listing only the ids of every live record (reconciliation)."""
        return f"{{ {self.field} {{ edges {{ node {{ id }} }} }} }}"

    def count_query(self) -> str:
        """How many records match a search (variables: `query`)."""
        return (
            f"query Count($query: String) {{ {self.field}Count(query: $query, limit: null) "
            "{ count } }"
        )


def _full(value: Any, sizes: dict[str, int]) -> bool:
    if isinstance(value, list):
        return any(_full(item, sizes) for item in value)
    if not isinstance(value, dict):
        return False
    for name, child in value.items():
        edges = child.get("edges") if isinstance(child, dict) else None
        if name in sizes and edges is not None and len(edges) >= sizes[name]:
            return True
        if _full(child, sizes):
            return True
    return False


def _escape(search: str) -> str:
    return search.replace("\\", "\\\\").replace('"', '\\"')


SHOP = """
query Shop {
  shop {
    id name myshopifyDomain primaryDomain { host } currencyCode ianaTimezone email
    plan { publicDisplayName } createdAt updatedAt
  }
}
"""

CUSTOMERS = Resource(
    "customers",
    "customers",
    "Customer",
    """
    id firstName lastName state tags verifiedEmail createdAt updatedAt
    defaultEmailAddress { emailAddress marketingState }
    defaultPhoneNumber { phoneNumber }
    defaultAddress { city province country countryCodeV2 }
    """,
)

PRODUCTS = Resource(
    "products",
    "products",
    "Product",
    """
    id title handle vendor productType status tags createdAt updatedAt publishedAt
    variants(first: LINES) { edges { node {
      id title sku price compareAtPrice position inventoryQuantity
    } } }
    """,
)

ORDERS = Resource(
    "orders",
    "orders",
    "Order",
    f"""
    id name number email createdAt updatedAt processedAt cancelledAt cancelReason closedAt
    test displayFinancialStatus displayFulfillmentStatus currencyCode
    subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
    totalDiscountsSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }}
    totalRefundedSet {{ {MONEY} }}
    discountCodes
    customer {{ id firstName lastName defaultEmailAddress {{ emailAddress }} }}
    lineItems(first: LINES) {{ edges {{ node {{
      id title variantTitle name sku vendor quantity isGiftCard
      originalUnitPriceSet {{ {MONEY} }}
      variant {{ id }} product {{ id }}
      discountAllocations {{
        allocatedAmountSet {{ {MONEY} }} discountApplication {{ index }}
      }}
    }} }} }}
    shippingLines(first: FEW) {{ edges {{ node {{
      id title code originalPriceSet {{ {MONEY} }}
    }} }} }}
    refunds {{
      id createdAt
      transactions(first: FEW) {{ edges {{ node {{
        id kind status gateway createdAt processedAt amountSet {{ {MONEY} }}
      }} }} }}
    }}
    """,
)

ABANDONED_CHECKOUTS = Resource(
    "abandoned_checkouts",
    "abandonedCheckouts",
    "AbandonedCheckout",
    f"""
    id name createdAt updatedAt completedAt abandonedCheckoutUrl
    subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
    totalDiscountSet {{ {MONEY} }}
    customer {{ id firstName lastName defaultEmailAddress {{ emailAddress }} }}
    lineItems(first: LINES) {{ edges {{ node {{
      id title variantTitle sku quantity
      originalUnitPriceSet {{ {MONEY} }} originalTotalPriceSet {{ {MONEY} }}
      variant {{ id }} product {{ id }}
    }} }} }}
    """,
    sort_key="ID",
)

RESOURCES = (CUSTOMERS, PRODUCTS, ORDERS, ABANDONED_CHECKOUTS)
BY_NAME = {resource.name: resource for resource in RESOURCES}
