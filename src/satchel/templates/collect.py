"""``collect_static``: copy every static source into ``static_root`` with hashed names.

Each file is copied as it is and once more under a name carrying the first eight
hex digits of its content's SHA-256 (``css/site.css`` -> ``css/site.3f2a9b1c.css``);
``manifest.json`` maps the first to the second. Old hashed copies are kept
(pages already in browsers may still ask for them) unless ``clear`` is set.

Dotfiles and dot-folders (``.env``, ``.git``), editor backups (``*~``) and
symlinks that lead out of their source folder are never collected.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from satchel.exceptions import ImproperlyConfigured
from satchel.templates.assets import MANIFEST_NAME, static_root, static_sources

if TYPE_CHECKING:
    from satchel.app import App

MANIFEST_VERSION = 1
_CHUNK = 1024 * 1024


@dataclass
class CollectResult:
    """What :func:`collect_static` did."""

    root: str
    #: ``path -> hashed path`` for every collected file (what the manifest holds).
    paths: dict[str, str] = field(default_factory=dict)
    #: Paths found in more than one source: the first source's file was used.
    overridden: list[str] = field(default_factory=list)
    #: Files left out (dotfiles, backups, symlinks leading outside their folder).
    ignored: list[str] = field(default_factory=list)


def hashed_name(path: str, digest: str) -> str:
    """Return ``path`` with ``digest`` before its extension (``a/b.js`` -> ``a/b.<digest>.js``)."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    return posixpath.join(folder, f"{stem}.{digest}{ext}")


def file_digest(path: str) -> str:
    """Return the first eight hex digits of the SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()[:8]


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.endswith("~")


def find_files(directory: str) -> tuple[dict[str, str], list[str]]:
    """Return ``(relative path -> file, ignored paths)`` for the files under ``directory``."""
    real_root = os.path.realpath(directory)
    found: dict[str, str] = {}
    ignored: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        relative = os.path.relpath(dirpath, directory)
        parts = [] if relative == "." else relative.split(os.sep)
        for name in list(dirnames):
            if _ignored(name):
                ignored.append(posixpath.join(*parts, name) + "/")
        dirnames[:] = sorted(name for name in dirnames if not _ignored(name))
        for name in sorted(filenames):
            rel = posixpath.join(*parts, name)
            full = os.path.join(dirpath, name)
            real = os.path.realpath(full)
            if _ignored(name) or os.path.commonpath([real_root, real]) != real_root:
                ignored.append(rel)
                continue
            if os.path.isfile(real):
                found[rel] = full
    return found, ignored


def _check_root(root: str, sources: list[tuple[str, str]], app: App, clear: bool) -> None:
    for _, directory in sources:
        if os.path.commonpath([root, directory]) in (root, directory):
            raise ImproperlyConfigured(
                f"static_root {root!r} and the static folder {directory!r} overlap; "
                "set static_root to a folder of its own (e.g. 'staticfiles'), and serve it "
                "with serve_static(app) rather than app.static(...)"
            )
    if clear and os.path.commonpath([root, app.root_path]) == root:
        raise ImproperlyConfigured(
            f"refusing to clear static_root {root!r}: it holds the project itself"
        )


def _copy(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)


def _write_manifest(root: str, paths: dict[str, str]) -> None:
    data = {"version": MANIFEST_VERSION, "paths": dict(sorted(paths.items()))}
    # Written beside and renamed over, so a running server never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".manifest-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2)
            file.write("\n")
        os.replace(tmp, os.path.join(root, MANIFEST_NAME))
    except BaseException:
        os.unlink(tmp)
        raise


def collect_static(app: App, *, clear: bool = False) -> CollectResult:
    """Copy ``app``'s static files into ``settings.static_root`` with hashed copies and a manifest.

    ``clear`` empties ``static_root`` first (dropping hashed copies of older versions).
    """
    root = static_root(app)
    sources = static_sources(app)
    _check_root(root, sources, app, clear)
    result = CollectResult(root)
    if clear and os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root, exist_ok=True)
    chosen: dict[str, str] = {}
    for sub, directory in sources:
        files, ignored = find_files(directory)
        result.ignored.extend(posixpath.join(sub, rel) for rel in ignored)
        for rel, full in files.items():
            path = posixpath.join(sub, rel) if sub else rel
            if path == MANIFEST_NAME:
                result.ignored.append(path)
            elif path in chosen:
                result.overridden.append(path)
            else:
                chosen[path] = full
    for path, full in sorted(chosen.items()):
        hashed = hashed_name(path, file_digest(full))
        _copy(full, os.path.join(root, *path.split("/")))
        _copy(full, os.path.join(root, *hashed.split("/")))
        result.paths[path] = hashed
    _write_manifest(root, result.paths)
    return result


__all__ = ["CollectResult", "collect_static", "file_digest", "find_files", "hashed_name"]
