{# identifier -> one_id, as one lookup table for the joins below. #}
select identifier_type, identifier_value, one_id
from {{ ref('stg_silver__identity_map') }}
