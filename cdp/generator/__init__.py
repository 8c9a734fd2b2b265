"""Synthetic landing zone of a Chinese omni-channel retailer, with ground truth.

``generate`` writes every channel of ``spark_jobs.contracts`` as real sources deliver them
(per-account / per-store daily files, late and re-delivered files, GB18030 POS exports,
messy phone spellings, shared and dummy identifiers, a few malformed rows) and writes who is
who beside it, for scoring identity resolution. See ``docs/sources.md``.

Modules: ``catalog`` (apps, stores, products), ``people`` (persons and their identifiers),
``wechat`` / ``commerce`` / ``store`` / ``events`` / ``engagement`` (channel rows),
``malformed`` (bad rows), ``render`` (lines), ``writers`` (files), ``truth`` and ``traps``
(ground truth), ``core`` (the run).
"""

from cdp.generator.core import generate
from cdp.generator.report import GenerationReport

__all__ = ["GenerationReport", "generate"]
