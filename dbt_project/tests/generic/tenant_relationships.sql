{% test tenant_relationships(model, column_name, to, field) -%}
    {#- Every non-null `column_name` exists as `field` of `to` for the same tenant (Shopify
        ids are unique per shop only). The parent is read for the batch's tenants only. -#}
    with child as (select * from {{ model }})

    select child.tenant_id, child.{{ column_name }}
    from child
    where child.{{ column_name }} is not null
      and not exists (
          select 1 from {{ to }} as parent
          where {{ in_batch('parent.tenant_id') }}
            and parent.tenant_id = child.tenant_id
            and parent.{{ field }} = child.{{ column_name }}
      )
{%- endtest %}
