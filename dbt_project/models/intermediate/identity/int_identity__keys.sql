{# identifier -> one_id, as one lookup table for the joins below. Built after
   int_identity__touched, which compares the map with this table's previous build. #}
-- depends_on: {{ ref('int_identity__touched') }}
select identifier_type, identifier_value, one_id
from {{ ref('stg_silver__identity_map') }}
