# Multi-stage image for the API, Dagster and one-shot jobs (`xeno db upgrade`).
# Build: docker build -t xeno .   Secrets come from the environment at run time, never here.
FROM python:3.11-slim AS build
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv>=0.5,<1"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY core ./core
COPY simulator ./simulator
COPY ingestion ./ingestion
COPY orchestration ./orchestration
COPY api ./api
COPY dbt_project ./dbt_project
COPY profiles.yml ./
# Snapshots carry each mart's definition from here (dbt_project/export.py).
COPY docs/metrics.md ./docs/metrics.md
RUN uv sync --frozen --no-dev

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin xeno
WORKDIR /app
COPY --from=build --chown=xeno:xeno /app /app
ENV PATH="/app/.venv/bin:$PATH" XENO_ENV=production DATA_DIR=/app/.local PYTHONUNBUFFERED=1
USER xeno
ENTRYPOINT ["xeno"]
CMD ["--help"]
