"""The manifest of an export (``manifest.json``): what it holds and how it was decided.

Counts (the segment's people = exported + suppressed by reason, control group included), the
split, the channels and their files, the DMP writers' reports and the SHA-256 of every file;
nothing from the clock, with sorted keys, so the same export gives the same bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cdp.activation import split
from cdp.activation.compiler import CompiledSegment
from cdp.activation.definitions import Campaign
from cdp.activation.dmp.common import file_digest
from cdp.activation.suppression import Outcome


def build_manifest(
    compiled: CompiledSegment,
    digest: str,
    run_id: str,
    send_at: datetime,
    campaign: Campaign,
    summary: dict,
    outcome: Outcome,
    files: dict[str, list[str]],
    dmp: dict[str, dict],
    folder: Path,
    tz: str,
) -> dict:
    """Counts, suppression by reason, checksums of every file: nothing from the clock. The
    send time is written in the source time zone ``tz``."""
    suppressed = dict(outcome.suppressed)
    if summary[split.CONTROL]:
        suppressed["control_group"] = summary[split.CONTROL]
    size = summary[split.TREATMENT] + summary[split.CONTROL]
    if outcome.exported + sum(suppressed.values()) != size:
        raise RuntimeError(
            f"{compiled.name}: {outcome.exported} exported + {suppressed} "
            f"suppressed does not add up to the segment's {size} people"
        )
    digests = sorted(
        (
            file_digest(p) | {"name": p.relative_to(folder).as_posix()}
            for p in folder.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        ),
        key=lambda d: d["name"],
    )
    definition = compiled.definition
    return {
        "segment": definition.name,
        "owner": definition.owner,
        "description": definition.description,
        "definition_sha256": digest,
        "run_id": run_id,
        "as_of": compiled.as_of.isoformat(),
        "send_at": send_at.astimezone(ZoneInfo(tz)).isoformat(),
        "counts": {
            "segment": size,
            "treatment": summary[split.TREATMENT],
            "control": summary[split.CONTROL],
            "exported": outcome.exported,
            "suppressed": dict(sorted(suppressed.items())),
        },
        "split": {
            "salt": campaign.salt or definition.name,
            "control_ratio": campaign.control_ratio,
            "stratify_by": campaign.stratify_by,
            "method": split.METHOD,
            "strata": summary["strata"],
            "file": "assignment.csv",
        },
        "channels": {
            channel: {**counts, "files": files.get(channel, [])}
            for channel, counts in outcome.channels.items()
        },
        "dmp": {
            channel: {k: v for k, v in m.items() if k != "files"}
            for channel, m in sorted(dmp.items())
        },
        "lists_unresolved": compiled.unresolved,
        "files": digests,
    }


def write_manifest(path: Path, manifest: dict) -> None:
    """The manifest as JSON: indented, sorted keys, UTF-8 text as it is."""
    path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
