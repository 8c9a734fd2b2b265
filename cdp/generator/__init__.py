"""Synthetic landing zone of a Chinese omni-channel retailer, with ground truth.

``generate`` writes every channel of ``spark_jobs.contracts`` as real sources deliver them
(per-account / per-store daily files, late, re-delivered and corrected files, a history
backfill, GB18030 POS exports, messy phone and card spellings, foreign and reassigned phones,
shared and dummy identifiers, a few malformed rows) and writes who is who beside it, for
scoring identity resolution. See ``docs/sources.md``.

Modules: ``catalog`` (apps, stores, products), ``people`` (persons and their identifiers),
``realities`` (foreign phones and the two-person realities), ``wechat`` / ``commerce`` /
``store`` / ``events`` / ``engagement`` (channel rows), ``malformed`` (bad rows), ``render``
(lines), ``writers`` (files), ``truth`` and ``traps`` (ground truth), ``core`` (the run).
"""

from cdp.generator.core import generate
from cdp.generator.report import GenerationReport

__all__ = ["GenerationReport", "generate"]
