"""Local users and API tokens of the console, in ``<workspace>/console/users.sqlite``.

Passwords are stored as argon2id hashes (argon2-cffi). API tokens are random 256-bit secrets
shown once when issued and stored as their SHA-256: a token has that much entropy, so a fast
hash is safe and keeps a lookup per request cheap (argon2 would cost ~50 ms a request).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cdp.console.roles import role_named
from cdp.console.scope import parse_scope

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
    scope TEXT NOT NULL, is_disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    scope TEXT NOT NULL, is_revoked INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
"""
TOKEN_PREFIX = "cdp_"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (browser) or a system (API token), with role and scope."""

    name: str
    role: str
    scope: str
    kind: str  # "user" or "token"
    is_disabled: bool = False


def users_db(workspace: Path) -> Path:
    """Where a workspace keeps its console users and tokens."""
    return Path(workspace) / "console" / "users.sqlite"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(role: str, scope: str) -> None:
    role_named(role)
    parse_scope(scope)


class UserStore:
    """The users and tokens of one workspace."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tokens_cache: dict[str, Principal | None] = {}
        self._tokens_stamp: int | None = None
        with closing(self._connect()) as con:
            con.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add_user(self, username: str, password: str, role: str, scope: str) -> Principal:
        """Create a user; ValueError when the name is taken, the role or scope unknown, or
        the password shorter than 8 characters."""
        _check(role, scope)
        if len(password) < 8:
            raise ValueError(f"user {username}: the password needs at least 8 characters")
        row = (username, _hasher.hash(password), role, scope, datetime.now(UTC).isoformat())
        try:
            with closing(self._connect()) as con, con:
                con.execute(
                    "INSERT INTO users (username, password_hash, role, scope, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"user {username} exists already") from None
        return Principal(username, role, scope, "user")

    def users(self) -> list[Principal]:
        """Every user, by name."""
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT username, role, scope, is_disabled FROM users ORDER BY username"
            ).fetchall()
        return [Principal(n, r, s, "user", bool(d)) for n, r, s, d in rows]

    def disable_user(self, username: str) -> None:
        """Disable a user (they can no longer log in; open sessions stop at the next
        request); LookupError for an unknown user."""
        with closing(self._connect()) as con, con:
            changed = con.execute(
                "UPDATE users SET is_disabled = 1 WHERE username = ?", (username,)
            ).rowcount
        if not changed:
            raise LookupError(f"no user {username}")

    def user(self, username: str) -> Principal | None:
        """The enabled user ``username``, or None."""
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT role, scope FROM users WHERE username = ? AND is_disabled = 0",
                (username,),
            ).fetchone()
        return Principal(username, row[0], row[1], "user") if row else None

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The user when the password is theirs and they are enabled, else None."""
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT password_hash, role, scope FROM users "
                "WHERE username = ? AND is_disabled = 0",
                (username,),
            ).fetchone()
        if row is None:
            _hasher.hash(password)  # same time whether or not the user exists
            return None
        try:
            _hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            return None
        return Principal(username, row[1], row[2], "user")

    def issue_token(self, name: str, role: str, scope: str) -> str:
        """A new API token for system ``name``: returned once, stored as its SHA-256."""
        _check(role, scope)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = (name, _token_hash(token), role, scope, datetime.now(UTC).isoformat())
        try:
            with closing(self._connect()) as con, con:
                con.execute(
                    "INSERT INTO tokens (name, token_sha256, role, scope, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"token {name} exists already; revoke it first") from None
        return token

    def tokens(self) -> list[Principal]:
        """Every token's system name, role and scope (revoked ones as disabled)."""
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT name, role, scope, is_revoked FROM tokens ORDER BY name"
            ).fetchall()
        return [Principal(n, r, s, "token", bool(d)) for n, r, s, d in rows]

    def revoke_token(self, name: str) -> None:
        """Revoke the token of system ``name``; LookupError when there is none."""
        with closing(self._connect()) as con, con:
            changed = con.execute(
                "UPDATE tokens SET is_revoked = 1 WHERE name = ?", (name,)
            ).rowcount
        if not changed:
            raise LookupError(f"no token {name}")

    def token_principal(self, token: str) -> Principal | None:
        """The system a valid, unrevoked token belongs to, or None. Answers are cached until
        the file changes (any write: a token issued or revoked), so an API request costs a
        stat of the file rather than a query."""
        stamp = self.path.stat().st_mtime_ns
        if stamp != self._tokens_stamp:
            self._tokens_cache, self._tokens_stamp = {}, stamp
        digest = _token_hash(token)
        if digest not in self._tokens_cache:
            self._tokens_cache[digest] = self._token_row(digest)
        return self._tokens_cache[digest]

    def _token_row(self, digest: str) -> Principal | None:
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT name, role, scope FROM tokens WHERE token_sha256 = ? AND is_revoked = 0",
                (digest,),
            ).fetchone()
        return Principal(row[0], row[1], row[2], "token") if row else None
