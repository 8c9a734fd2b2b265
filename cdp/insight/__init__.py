"""Insight over the marts: what ``cdp insight`` prints and draws, the predicted customer value
and the offline evaluation of the recommendations.

The analysis models themselves are dbt models (``dbt_project/models/insight/``, parameters in
``dbt_project/config/insight.yml``); this package reads them:

``views``       one named query per ``cdp insight`` command, and its chart (matplotlib PNG)
``ltv``         BG/NBD + Gamma-Gamma (pymc-marketing) fitted on a calibration period and
                checked on the holdout after it
``evaluation``  precision@k, recall@k and coverage of recommendations on a time holdout,
                against the popularity baseline
"""
