"""Fixtures for the templates tests: a project folder to write templates and static files into."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from satchel import App, Module


class Site:
    """A temporary project root; ``write`` puts files under it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        """Write ``text`` (dedented) to ``relative`` under the root and return the path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def touch_later(self, path: Path) -> None:
        """Push ``path``'s mtime forward, so a change is seen even within one clock tick."""
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))

    def app(self, **settings: Any) -> App:
        """Return an App rooted here (debug off unless given)."""
        settings.setdefault("debug", False)
        return App(root_path=self.root, **settings)

    def module(self, name: str, **kwargs: Any) -> Module:
        """Return a Module rooted at ``<root>/<name>``."""
        path = self.root / name
        path.mkdir(exist_ok=True)
        return Module(name, root_path=path, **kwargs)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A fresh project root; SATCHEL_* settings from the environment are cleared."""
    for name in ("SATCHEL_DEBUG", "SATCHEL_TEMPLATES_AUTO_RELOAD", "SATCHEL_STATIC_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    root.mkdir()
    return Site(root)
