"""ingestion.

Arrow's default allocator (jemalloc) keeps the pages of freed batches: a load's peak RSS
then follows the store. The system allocator returns them (measured in docs/benchmarks.md:
about 100 MiB less at 100,000 orders). Arrow reads this once, when pyarrow is first imported,
so it is set before any ingestion module imports it; an explicit setting is kept.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
