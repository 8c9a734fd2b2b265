"""Quality gates: Great Expectations suites, written in YAML, run against lakehouse tables.

``run_gate`` checks one layer against ``expectations/<layer>.yml`` and raises
``QualityGateFailed`` when an ``error`` expectation fails; see ``suites`` for the file format.
"""

from cdp.quality.gate import ExpectationResult, GateResult, QualityGateFailed, run_gate
from cdp.quality.suites import ExpectationSpec, Suites, load_suites

__all__ = [
    "ExpectationResult",
    "ExpectationSpec",
    "GateResult",
    "QualityGateFailed",
    "Suites",
    "load_suites",
    "run_gate",
]
