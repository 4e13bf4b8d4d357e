"""ingestion.

Arrow's default allocator (jemalloc) keeps the pages of freed batches: a load's peak RSS
then follows the store. The system allocator returns them (measured in docs/benchmarks.md:
about 100 MiB less at 100,000 orders). Arrow reads this once, when pyarrow is first imported,
so it is set before any ingestion module imports it; an explicit setting is kept.

dlt reads its runtime settings once, when its first pipeline starts; values set through
`dlt.config` after import arrive too late (its anonymous usage tracker started anyway).
The product runs offline and keeps tenants' data to itself, so telemetry is always off;
dlt's warnings about always-null Shopify fields are silenced unless asked for.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
