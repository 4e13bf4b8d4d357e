{% macro analyze_if_grown(relation) -%}
    {#- post-hook: fresh statistics once a slice replacement has grown the table by more
        than a tenth since its last analyze (a first build of a large tenant, a table never
        analysed). Downstream marts and tests join on these tables, and a stale estimate
        picks nested loops over millions of rows; but analysing every mart after every
        build reads ~30k rows each, seconds per build that changed a few rows (autovacuum
        keeps up with those). Table size against relpages is exact at once, unlike the
        cumulative statistics, which a backend reports up to a second late. -#}
    do $$
    begin
        if (select pg_relation_size(oid) / current_setting('block_size')::int
                > relpages * 1.1 + 8
            from pg_class where oid = '{{ relation }}'::regclass) then
            analyze {{ relation }};
        end if;
    end
    $$
{%- endmacro %}
