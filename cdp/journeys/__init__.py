"""Journeys and triggers: multi-step, event-triggered and multi-wave campaigns as code.

``definitions`` validates ``journeys/<name>.yml``; ``engine`` advances every person's state
as of a run (pure: Arrow tables in, Arrow tables out, DuckDB SQL from ``engine_sql``);
``store`` reads and writes ``gold.journey_state`` and ``gold.journey_events``; ``sends``
passes a run's messages through activation's suppression and packs; ``runs`` is what the
pipeline, the DAG and the CLI call; ``reporting`` counts steps, sends and conversions.
"""
