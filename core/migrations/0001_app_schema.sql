-- The application schema: who the users are, which stores they connected, who may see
-- which store, and what every sync did. Warehouse data lives elsewhere (raw schemas per
-- tenant, one marts schema).
create schema if not exists app;

create table app.users (
    id            uuid primary key default gen_random_uuid(),
    email         text not null,
    password_hash text not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint users_email_normalised check (email = lower(btrim(email)) and email <> '')
);
create unique index users_email_key on app.users (email);

create table app.tenants (
    id                        uuid primary key default gen_random_uuid(),
    name                      text not null check (btrim(name) <> ''),
    shop_domain               text not null
        check (shop_domain ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
    raw_schema                text not null unique check (raw_schema ~ '^shopify_[a-z0-9_]+$'),
    access_token_encrypted    bytea not null,
    webhook_secret_encrypted  bytea,
    created_by                uuid references app.users (id) on delete set null,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now()
);
create unique index tenants_shop_domain_key on app.tenants (shop_domain);

create table app.memberships (
    tenant_id  uuid not null references app.tenants (id) on delete cascade,
    user_id    uuid not null references app.users (id) on delete cascade,
    role       text not null check (role in ('owner', 'analyst', 'viewer')),
    created_at timestamptz not null default now(),
    primary key (tenant_id, user_id)
);
create index memberships_user_idx on app.memberships (user_id);

create table app.sync_runs (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references app.tenants (id) on delete cascade,
    trigger      text not null check (trigger in ('cli', 'api', 'schedule', 'sensor', 'webhook')),
    full_refresh boolean not null default false,
    status       text not null default 'queued'
        check (status in ('queued', 'running', 'succeeded', 'failed')),
    requested_at timestamptz not null default now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    rows_loaded  jsonb not null default '{}'::jsonb,
    error        text,
    constraint sync_runs_finished_has_outcome
        check ((status in ('succeeded', 'failed')) = (finished_at is not null))
);
create index sync_runs_tenant_requested_idx on app.sync_runs (tenant_id, requested_at desc);
-- At most one active sync per tenant: the database, not the caller, enforces the lock.
create unique index sync_runs_one_active_per_tenant on app.sync_runs (tenant_id)
    where status in ('queued', 'running');

create table app.audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    actor      text not null,
    tenant_id  uuid,
    action     text not null,
    detail     jsonb not null default '{}'::jsonb
);
create index audit_log_tenant_at_idx on app.audit_log (tenant_id, at desc);
