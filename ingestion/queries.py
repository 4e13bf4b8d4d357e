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

Names are Shopify's own for API version 2026-10. Nested connections ask for at most 250
nodes: Shopify's page maximum (orders with more lines are not read completely by a paged
query; bulk operations have no such limit).
"""

from __future__ import annotations

from dataclasses import dataclass

MONEY = "shopMoney { amount currencyCode }"


@dataclass(frozen=True)
class Resource:
    """A root connection of the QueryRoot read as one raw table family."""

    name: str  # the raw table (and dlt resource) name
    field: str  # the QueryRoot connection
    type_name: str  # the GraphQL type, as in the GID `gid://shopify/<type>/<id>`
    selection: str  # the node's fields

    def bulk_query(self, search: str | None = None) -> str:
        """The document of a bulk operation over every (or every matching) node."""
        args = f'(query: "{_escape(search)}")' if search else ""
        return f"{{ {self.field}{args} {{ edges {{ node {{ {self.selection} }} }} }} }}"

    def page_query(self) -> str:
        """One page of nodes updated since a time, oldest change first.

        Variables: `first` (at most 250), `after` (a cursor or null), `query` (search).
        """
        return (
            "query Page($first: Int!, $after: String, $query: String) { "
            f"{self.field}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) "
            "{ pageInfo { hasNextPage endCursor } "
            f"edges {{ node {{ {self.selection} }} }} }} }}"
        )

    def ids_query(self) -> str:
        """A bulk operation listing only the ids of every live record (reconciliation)."""
        return f"{{ {self.field} {{ edges {{ node {{ id }} }} }} }}"

    def count_query(self) -> str:
        """How many records match a search (variables: `query`)."""
        return f"query Count($query: String) {{ {self.field}Count(query: $query) {{ count }} }}"


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
    amountSpent { amount currencyCode }
    numberOfOrders
    """,
)

PRODUCTS = Resource(
    "products",
    "products",
    "Product",
    """
    id title handle vendor productType status tags createdAt updatedAt publishedAt
    variants(first: 250) { edges { node {
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
    lineItems(first: 250) {{ edges {{ node {{
      id title variantTitle name sku vendor quantity isGiftCard
      originalUnitPriceSet {{ {MONEY} }}
      variant {{ id }} product {{ id }}
      discountAllocations {{
        allocatedAmountSet {{ {MONEY} }} discountApplication {{ index }}
      }}
    }} }} }}
    shippingLines(first: 250) {{ edges {{ node {{
      id title code originalPriceSet {{ {MONEY} }}
    }} }} }}
    refunds {{
      id createdAt
      transactions(first: 250) {{ edges {{ node {{
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
    lineItems(first: 250) {{ edges {{ node {{
      id title variantTitle sku quantity
      originalUnitPriceSet {{ {MONEY} }} originalTotalPriceSet {{ {MONEY} }}
      variant {{ id }} product {{ id }}
    }} }} }}
    """,
)

RESOURCES = (CUSTOMERS, PRODUCTS, ORDERS, ABANDONED_CHECKOUTS)
BY_NAME = {resource.name: resource for resource in RESOURCES}
