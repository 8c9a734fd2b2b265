"""Console users and API tokens: hashed secrets, roles and scopes checked, disabling."""

import sqlite3

import pytest

from cdp.console.users import UserStore


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "console" / "users.sqlite")


def test_password_is_stored_as_argon2_hash_and_checked(store):
    store.add_user("alice", "correct horse", "crm", "group")
    stored = sqlite3.connect(store.path).execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert store.authenticate("alice", "correct horse").role == "crm"
    assert store.authenticate("alice", "wrong horse") is None
    assert store.authenticate("nobody", "correct horse") is None


def test_disabled_user_cannot_log_in_or_keep_a_session(store):
    store.add_user("bob", "password-1", "store_staff", "store:SH001")
    store.disable_user("bob")
    assert store.authenticate("bob", "password-1") is None
    assert store.user("bob") is None
    assert [(u.name, u.is_disabled) for u in store.users()] == [("bob", True)]
    with pytest.raises(LookupError, match="no user carol"):
        store.disable_user("carol")


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        ("cashier", "group", "unknown role 'cashier'"),
        ("crm", "shop:SH001", "expected 'group' or one of region"),
        ("crm", "store:", "expected 'group'"),
    ],
)
def test_unknown_role_or_scope_is_refused(store, role, scope, message):
    with pytest.raises(ValueError, match=message):
        store.add_user("dave", "password-1", role, scope)


def test_duplicate_user_and_short_password_are_refused(store):
    store.add_user("erin", "password-1", "analyst", "group")
    with pytest.raises(ValueError, match="exists already"):
        store.add_user("erin", "password-2", "analyst", "group")
    with pytest.raises(ValueError, match="at least 8 characters"):
        store.add_user("frank", "short", "analyst", "group")


def test_token_is_shown_once_stored_hashed_and_revocable(store):
    token = store.issue_token("pos", "operations", "mall:MALL_SH01")
    stored = sqlite3.connect(store.path).execute("SELECT token_sha256 FROM tokens").fetchone()[0]
    assert token.startswith("cdp_") and token not in stored and len(stored) == 64
    system = store.token_principal(token)
    assert (system.name, system.role, system.scope, system.kind) == (
        "pos",
        "operations",
        "mall:MALL_SH01",
        "token",
    )
    assert store.token_principal(token + "x") is None
    store.revoke_token("pos")
    assert store.token_principal(token) is None


def test_the_users_and_tokens_commands_add_list_and_disable(tmp_path):
    from click.testing import CliRunner

    from cdp.cli import cli

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("users", "add", "dora", "--role", "crm", "--scope", "mall:MALL_SH01", "--password", "p" * 8)
    run("users", "disable", "dora")
    token = run("tokens", "add", "pos", "--scope", "store:SH001").strip()
    run("tokens", "revoke", "pos")
    run("tokens", "add", "service-desk")

    assert run("users", "list") == "dora: crm, scope mall:MALL_SH01 (disabled)\n"
    assert run("tokens", "list") == (
        "pos: operations, scope store:SH001 (revoked)\nservice-desk: operations, scope group\n"
    )
    assert token and token not in (tmp_path / "console" / "users.sqlite").read_bytes().decode(
        "latin-1"
    )
