-- Mart names follow one rule (docs/metrics.md): facts `fct_`, dimensions `dim_`,
-- aggregates `agg_`. A deployment built before carries six marts under their old names:
-- each is renamed to its new name, keeping its rows, indexes, comments, row-level
-- security and grants, so the next incremental build carries on from its watermarks; if
-- a build already created the new table, the old one is dropped. A database without
-- marts is left as it is.
do $$
declare
    mart record;
begin
    for mart in
        select * from (values
            ('abandoned_checkouts', 'fct_abandoned_checkouts'),
            ('revenue_daily', 'agg_revenue_daily'),
            ('customer_revenue_daily', 'agg_customer_revenue_daily'),
            ('product_revenue_daily', 'agg_product_revenue_daily'),
            ('product_revenue', 'agg_product_revenue'),
            ('top_customers', 'agg_top_customers')
        ) as renamed (old_name, new_name)
    loop
        if to_regclass(format('marts.%I', mart.old_name)) is null then
            continue;
        elsif to_regclass(format('marts.%I', mart.new_name)) is null then
            execute format('alter table marts.%I rename to %I', mart.old_name, mart.new_name);
        else
            execute format('drop table marts.%I', mart.old_name);
        end if;
    end loop;
end
$$;
