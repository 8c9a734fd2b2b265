"""Activation: getting audiences out of the CDP to marketers and ad platforms.

``rules`` (segment and activation YAML), ``segments`` (compile to SQL over the marts),
``split`` (treatment / control), ``suppression`` (consent, caps, channel choice), ``packs``
(CSV / XLSX packs), ``dmp`` (each ad platform's exact upload format) and ``export`` (one export
run end to end, its manifest and history in gold). The response of an exported campaign is the
dbt mart ``campaign_response``.
"""
