select
    gid_number(id) as id,
    title,
    handle,
    vendor,
    productType as product_type,
    lower(status) as status,
    array_to_string(tags, ', ') as tags,
    createdAt as created_at,
    updatedAt as updated_at,
    publishedAt as published_at,
    id as _dlt_id
from src
where __parentId is null
