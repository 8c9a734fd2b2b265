"""Roles and what they may do: the pages and actions of each, and who sees personal values.

A role grants permissions; every page and endpoint names the one it needs (``require`` in
``auth.py``). What a user sees is further cut to their data scope (``scope.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: every permission a page or endpoint may require
PERMISSIONS = (
    "dashboard",  # the role's dashboard
    "members",  # member search, the 360, the member list
    "member_export",  # download a member list (audited)
    "personal_values",  # phones, names, birthdays unmasked (read from the restricted marts)
    "segments",  # browse segments, sizes, reach, overlap, portrait
    "segment_edit",  # the segment builder writes segment files
    "pack_download",  # download a segment's export packs (audited)
    "identity",  # identity explain
    "users",  # manage users and tokens
    "api",  # the JSON API
)


@dataclass(frozen=True)
class Role:
    """A role: its name, what it is for, its permissions and its dashboard."""

    name: str
    title: str
    permissions: frozenset[str]
    #: the title of its home page, which sets the charts shown (templates/dashboard.html)
    dashboard: str


def _role(name: str, title: str, dashboard: str, *permissions: str) -> Role:
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise ValueError(f"role {name}: unknown permissions {sorted(unknown)}")
    return Role(name, title, frozenset(permissions), dashboard)


ROLES = {
    role.name: role
    for role in (
        _role("admin", "Administrator", "management", *PERMISSIONS),
        _role(
            "marketer",
            "Marketer",
            "marketing",
            "dashboard",
            "members",
            "segments",
            "segment_edit",
            "pack_download",
            "api",
        ),
        _role(
            "crm",
            "CRM operator",
            "members",
            "dashboard",
            "members",
            "member_export",
            "personal_values",
            "segments",
            "identity",
            "api",
        ),
        _role("operations", "Mall operations", "operations", "dashboard", "members", "api"),
        _role("analyst", "Analyst", "management", "dashboard", "segments", "identity", "api"),
        _role("store_staff", "Store staff", "store", "dashboard", "members", "api"),
    )
}


def role_named(name: str) -> Role:
    """The role ``name``; ValueError listing the roles otherwise."""
    if name not in ROLES:
        raise ValueError(f"unknown role {name!r}; expected one of {', '.join(ROLES)}")
    return ROLES[name]
