{# What counts as a purchase: the one definition every model applies (fct_orders.yml documents
   it for analysts).

   A sale is *paid* when its status says the customer paid: paid, shipped, completed, or
   refunded (paid, then given the money back). Created (awaiting payment), cancelled and
   unknown statuses are not.
   A paid sale is a *purchase* unless it was refunded (status refunded) or its goods were all
   given back: refunds, or POS returns, that leave nothing but the freight. The amount decides
   nothing else, so a sale of 0.00 (a gift, a fully discounted order) that nobody refunded is a
   purchase. A POS return is its own ticket and never a purchase. #}

{% macro paid_statuses() %}('paid', 'shipped', 'completed', 'refunded'){% endmacro %}

{% macro purchase_statuses() %}('paid', 'shipped', 'completed'){% endmacro %}

{% macro is_paid_sale(order_type='order_type', status='status') -%}
    ({{ order_type }} = 'sale' and coalesce({{ status }} in {{ paid_statuses() }}, false))
{%- endmacro %}

{# Money given back took all the goods: something was given back and what is left is no more
   than the freight. #}
{% macro is_all_given_back(paid, given_back, freight='0') -%}
    ({{ given_back }} > 0
     and coalesce({{ paid }}, 0) - {{ given_back }} - coalesce({{ freight }}, 0) <= 0)
{%- endmacro %}

{% macro is_purchase(order_type='order_type', status='status', paid='paid_amount_fen',
                     refund='refund_amount_fen', freight='freight_fen') -%}
    ({{ order_type }} = 'sale' and coalesce({{ status }} in {{ purchase_statuses() }}, false)
     and not {{ is_all_given_back(paid, refund, freight) }})
{%- endmacro %}
