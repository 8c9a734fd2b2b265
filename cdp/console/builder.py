"""The segment builder: the console's form as a segment file (``segments/<name>.yml``), in the
same format marketers write by hand, validated by ``cdp.activation.definitions`` and compiled
against the marts before it is saved.

The form sends a plain structure: name, owner, description, ``match`` (all / any), a list of
conditions (``{"kind": ..., ...}`` in the segment format's own keys), the channels, and
optionally a CSV of identifiers to include (saved beside the file as ``lists/<name>.csv``).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cdp.activation import definitions as d
from cdp.activation.catalog import MartCatalog
from cdp.activation.compiler import compile_segment, members
from cdp.activation.people_lists import IdentifierLookup
from cdp.config import ConfigError

LISTS_FOLDER = "lists"


@dataclass
class BuiltSegment:
    """The YAML of a form, and what validating it found: errors, or the size."""

    name: str
    yaml_text: str
    errors: list[str] = field(default_factory=list)
    size: int | None = None
    include_csv: str | None = None


def segment_document(form: dict) -> dict:
    """The segment file's mapping for a form (keys in the format's order)."""
    conditions = [c for c in form.get("conditions") or [] if c]
    match = form.get("match", "all")
    rules: dict = {match: conditions} if len(conditions) != 1 else conditions[0]
    document: dict = {
        "name": form.get("name", ""),
        "owner": form.get("owner", ""),
        "description": form.get("description", ""),
        "rules": rules,
    }
    if (form.get("include_csv") or "").strip():
        document["include"] = {"file": f"{LISTS_FOLDER}/{form.get('name', '')}.csv"}
    channels = form.get("channels") or []
    if channels:
        document["campaign"] = {
            "control_ratio": float(form.get("control_ratio", 0.1)),
            "channels": list(channels),
            "schedule": "manual",
        }
    return document


def build(form: dict, con, lookup: IdentifierLookup | None) -> BuiltSegment:
    """The form's YAML, validated as a segment file and compiled on ``con`` (the marts):
    the errors (naming the key) or the number of people."""
    document = segment_document(form)
    name = str(document["name"])
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    built = BuiltSegment(name, text, include_csv=(form.get("include_csv") or "").strip() or None)
    if not (name and re.fullmatch(d.NAME, name)):
        built.errors.append(f"name: {name!r} must be lower case letters, digits and _")
        return built
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yml"
        path.write_text(text, encoding="utf-8")
        if built.include_csv:
            (Path(folder) / LISTS_FOLDER).mkdir()
            (Path(folder) / LISTS_FOLDER / f"{name}.csv").write_text(built.include_csv)
        try:
            definition = d.load_segment(path)
            compiled = compile_segment(definition, path, con, lookup, MartCatalog(con))
            built.size = members(con, compiled).num_rows
        except ConfigError as exc:
            built.errors.append(str(exc).replace(f"{path}: ", "", 1))
    return built


def save(built: BuiltSegment, segments_dir: Path) -> Path:
    """Write a valid built segment into the segments folder; ValueError when it has errors or
    a segment of that name exists."""
    if built.errors:
        raise ValueError(f"segment {built.name} is not valid: {'; '.join(built.errors)}")
    path = Path(segments_dir) / f"{built.name}.yml"
    if path.exists():
        raise ValueError(f"{path} exists already; choose another name")
    if built.include_csv:
        (path.parent / LISTS_FOLDER).mkdir(exist_ok=True)
        (path.parent / LISTS_FOLDER / f"{built.name}.csv").write_text(built.include_csv)
    path.write_text(built.yaml_text, encoding="utf-8")
    return path
