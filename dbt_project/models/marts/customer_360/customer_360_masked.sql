{# customer_360 for analysts: the same rows and columns, with personal data masked. Phone and
   member card keep their first 3 and last 4 characters (139****5678), the name its first
   character (李*), the birthday only an age band; the exact age is dropped. #}
with customers as (
    select * from {{ ref('customer_360') }}
),

final as (
    select
        * exclude (birthday, age)
        replace (
            left(name, 1) || '*' as name,
            left(phone, 3) || '****' || right(phone, 4) as phone,
            left(member_card_no, 3) || '****' || right(member_card_no, 4) as member_card_no
        ),
        case
            when age is null then null
            when age < 18 then 'under 18'
            when age < 25 then '18-24'
            when age < 35 then '25-34'
            when age < 45 then '35-44'
            when age < 55 then '45-54'
            when age < 65 then '55-64'
            else '65+'
        end as age_band
    from customers
)

select * from final
