select
    gid_number(id) as id,
    defaultEmailAddress.emailAddress as email,
    firstName as first_name,
    lastName as last_name,
    defaultPhoneNumber.phoneNumber as phone,
    lower(state) as state,
    array_to_string(tags, ', ') as tags,
    verifiedEmail as verified_email,
    createdAt as created_at,
    updatedAt as updated_at,
    defaultAddress.city as default_address__city,
    defaultAddress.province as default_address__province,
    defaultAddress.country as default_address__country,
    defaultAddress.countryCodeV2 as default_address__country_code,
    lower(defaultEmailAddress.marketingState) as email_marketing_consent__state,
    id as _dlt_id
from src
where __parentId is null
