{# The tag definitions as rows: a `select ... from (values ...)` of name, category, category
   description, description, owner, version, kind (attribute, metric, composite, flag) and the
   rule as JSON. `definitions` is var('tags'). #}
{% macro tags_definition_rows(definitions) -%}
    select *
    from (values
        {%- for tag in definitions.tags %}
        ({{ tags_literal(tag.name) }}, {{ tags_literal(tag.category) }},
         {{ tags_literal(definitions.categories[tag.category]) }},
         {{ tags_literal(tag.description) }}, {{ tags_literal(tag.owner) }},
         {{ tag.version }}, {{ tags_literal(tag.kind) }},
         {{ tags_literal(tojson(tag.rule)) }}::json){{ "," if not loop.last }}
        {%- endfor %}
    ) as definitions (
        tag, category, category_description, description, owner, tag_version, tag_kind, rule
    )
{%- endmacro %}
