"""Activation: getting audiences out of the CDP to marketers and ad platforms.

One job per module. The YAML: ``definitions`` (segments), ``rules`` (the activation rules
every campaign shares), ``channels``. Segments over the marts: ``catalog`` (the marts'
columns), ``compiler`` (a definition made SQL; ``people_lists`` for include / exclude),
``segments`` (list and preview). An export: ``inputs`` (what it reads), ``split`` (treatment /
control), ``suppression`` (consent, caps, channel choice; its SQL in ``suppression_sql``),
``packs`` (CSV / XLSX packs; ``dmp`` for each ad platform's exact upload format),
``manifest``, ``staging`` (whole folders), ``history`` (runs, membership and touches in gold)
and ``export`` (the run end to end). The response of an exported campaign is the dbt mart
``campaign_response``.
"""
