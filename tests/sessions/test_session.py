"""The Session object's flags, and what installing the battery costs at import and startup."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from satchel.sessions import Session


def test_new_session_flags():
    session = Session()
    assert (session.is_new, session.accessed, session.modified, session.cycled) == (
        True,
        False,
        False,
        False,
    )
    assert session.key is None


def test_loaded_session_is_not_new():
    session = Session({"a": 1}, issued_at=1.0, had_cookie=True)
    assert not session.is_new
    assert session.had_cookie


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: len(s),
        lambda s: list(s),
        lambda s: dict(s),
        lambda s: list(s.items()),
        lambda s: s.to_dict(),
    ],
)
def test_reads_mark_accessed_not_modified(read):
    session = Session({"a": 1})
    read(session)
    assert session.accessed
    assert not session.modified


def test_data_property_is_not_an_access():
    session = Session({"a": 1})
    assert session.data == {"a": 1}
    assert not session.accessed


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("b", 2),
        lambda s: s.clear(),
        lambda s: s.popitem(),
    ],
)
def test_writes_mark_modified(write):
    session = Session({"a": 1})
    write(session)
    assert session.accessed
    assert session.modified


def test_missing_key_raises_and_pop_default_is_no_write():
    session = Session()
    with pytest.raises(KeyError):
        session["nope"]
    assert session.pop("nope", None) is None
    assert not session.modified


def test_nested_change_is_not_seen_until_reassigned():
    session = Session({"cart": [1]})
    session.get("cart").append(2)
    assert not session.modified
    session["cart"] = session["cart"]
    assert session.modified


def test_cycle_key_keeps_data():
    session = Session({"a": 1}, key="k", issued_at=1.0)
    session.cycle_key()
    assert session.cycled and session.modified
    assert session.data == {"a": 1}


def test_invalidate_clears_and_cycles():
    session = Session({"a": 1}, key="k", issued_at=1.0)
    session.invalidate()
    assert session.cycled and session.modified
    assert session.data == {}


def test_repr_shows_keys_not_values():
    session = Session({"user": "secret-value"})
    session["x"] = 1
    text = repr(session)
    assert "user" in text and "modified" in text
    assert "secret-value" not in text


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_starting_an_app_loads_no_signing_database_or_redis_code():
    modules = _modules_after(
        "from satchel import App\napp = App()\napp.freeze()\nassert 'sessions' in app.extensions"
    )
    assert "satchel.sessions" in modules
    for heavy in ("itsdangerous", "sqlalchemy", "redis", "satchel.sessions.database"):
        assert heavy not in modules, heavy
