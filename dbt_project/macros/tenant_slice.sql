{#- Per-tenant slices of the shared marts.

    Every mart row carries `tenant_id`; a build replaces exactly its batch's rows (see
    batch.sql). Marts are `incremental` with the `tenant_slice` strategy:
      - without `meta.slice_key`: the batch's whole slices are deleted and re-inserted;
      - with `meta.slice_key` (columns): only rows whose (tenant_id, key) occurs in this
        run's result are replaced. The model selects the keys that changed since each
        tenant's watermark (`changed_since_watermark`). A key that must disappear (a
        deleted order, a customer-day left without counted orders) is emitted as a
        tombstone row (`tombstone_column`): it deletes the old row and is not inserted.
    `var('full_refresh')` makes every model reprocess and replace the batch's whole slices.
-#}

{% macro full_refresh_requested() -%}
    {{ return(var('full_refresh') in [true, 'true', 'True', 1, '1']) }}
{%- endmacro %}


{% macro mart_relation(name) -%}
    {#- The shared mart table `name`, or none before its first creation. -#}
    {{ return(adapter.get_relation(database=target.database, schema=target.schema, identifier=name)) }}
{%- endmacro %}


{% macro watermark_applies() -%}
    {#- True when only rows loaded after the model's watermarks need processing. -#}
    {{ return(is_incremental() and not full_refresh_requested()) }}
{%- endmacro %}


{% macro changed_since_watermark(load_id, tenant_column='tenant_id') -%}
    {#- Condition: the row's load id is newer than any its tenant's slice already holds
        (always true in a full build). Load ids are dlt's `_dlt_load_id`, as numeric.
        The watermarks are read first (one query for the batch, one probe per tenant of
        the mart's (tenant_id, _dlt_load_id) index) and inlined as literals in
        a CASE on the tenant: each raw schema's branch of the staging union has a constant
        tenant_id, so the planner folds the CASE to `load_id > <literal>`, sees how few rows
        qualify and uses the raw load-id index instead of scanning everything. -#}
    {%- set watermarks = {} -%}
    {%- if watermark_applies() and execute -%}
        {%- set found = run_query(
            "select batch.tenant_id::text, (select max(_dlt_load_id) from " ~ this
            ~ " where tenant_id = batch.tenant_id) from " ~ batch_rows()) -%}
        {%- for tenant_id, watermark in found.rows if watermark is not none -%}
            {%- do watermarks.update({tenant_id: watermark}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if watermarks -%}
        {{ load_id }} > case {{ tenant_column }}
        {%- for tenant_id, watermark in watermarks.items() %}
            when '{{ tenant_id }}'::uuid then {{ watermark }}
        {%- endfor %}
            else -1 end
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro build_id() -%}
    {#- `_xeno_build_id` of every mart row: the dbt invocation that wrote it. Data tests of
        marts look only at the rows their own build wrote (`__this_build__` in
        dbt_project.yml): slices are replaced by key, so those are the only rows a build
        can have made wrong, and a rebuild after a few changes tests a few rows. -#}
    '{{ invocation_id }}'::uuid
{%- endmacro %}


{% macro tombstone_column(condition) -%}
    {#- In incremental runs, `, <condition> as _xeno_tombstone` (see the strategy). -#}
    {%- if execute and not config.meta_get('tombstones') -%}
        {{ exceptions.raise_compiler_error("tombstone_column needs meta.tombstones: true on " ~ this) }}
    {%- endif -%}
    {%- if is_incremental() -%}
        , {{ condition }} as _xeno_tombstone
    {%- endif -%}
{%- endmacro %}


{% macro unless_tombstone(condition) -%}
    {#- In a first (table-creating) build, a filter that keeps what tombstones would drop. -#}
    {%- if is_incremental() -%}
        true
    {%- else -%}
        not ({{ condition }})
    {%- endif -%}
{%- endmacro %}


{% macro get_incremental_tenant_slice_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set slice_key = config.meta_get('slice_key') -%}
    {%- if slice_key is string -%}
        {%- set slice_key = [slice_key] -%}
    {%- endif -%}
    delete from {{ target }}
    where {{ in_batch() }}
    {%- if slice_key and not full_refresh_requested() %}
      and (tenant_id, {{ slice_key | join(', ') }})
          in (select tenant_id, {{ slice_key | join(', ') }} from {{ source }})
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    {%- if config.meta_get('tombstones') %}
    where not _xeno_tombstone
    {%- endif %}
    {%- if slice_key %}
    {#- In key order, the mart's (tenant_id, key…) index grows at its right edge instead of
        splitting pages all over: a fifth less time for a first build's million rows. #}
    order by {{ slice_key | join(', ') }}
    {%- endif %}
{%- endmacro %}
