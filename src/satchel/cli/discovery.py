"""Find the application a command works on.

An app spec names where the :class:`~satchel.app.App` lives:

- ``module:attr`` -- an attribute of an importable module (``attr`` may be dotted,
  and may name a factory function, which is called with no arguments);
- ``module`` -- the module's ``app``, else ``application``, else ``create_app()``;
- ``path/to/file.py`` or ``path/to/file.py:attr`` -- the same, for a file.

With no spec, the ``SATCHEL_APP`` environment variable is used, else ``app.py`` or
``main.py`` in the current directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from satchel.app import App
from satchel.cli import APP_ENV_VAR

DEFAULT_FILES = ("app.py", "main.py")
"""Files looked for in the current directory when there is no spec at all."""

_ATTR_NAMES = ("app", "application")
_FACTORY_NAMES = ("create_app",)

# A colon followed by a slash or backslash is a Windows drive ("C:\\..."), not the
# module/attribute separator.
_SPEC_SEPARATOR = re.compile(r":(?![\\/])")


class AppNotFound(click.ClickException):
    """The app spec does not lead to a Satchel App; the message says how to fix it."""


def resolve_spec(spec: str | None = None) -> str:
    """Return the spec to load: ``spec``, else ``$SATCHEL_APP``, else a default file.

    Nothing is imported, so the development server can hand the result to its
    workers without importing the project in the reloader process.
    """
    if spec:
        return spec
    from_env = os.environ.get(APP_ENV_VAR, "").strip()
    if from_env:
        return from_env
    for filename in DEFAULT_FILES:
        if Path(filename).is_file():
            return filename.removesuffix(".py")
    raise AppNotFound(
        "Could not find an app: pass it as module:attr (e.g. 'satchel run myproject.app:app'), "
        f"set {APP_ENV_VAR}, or add {' or '.join(DEFAULT_FILES)} to the current directory."
    )


def split_spec(spec: str) -> tuple[str, str | None]:
    """Split ``spec`` into its module (or file) part and its attribute part."""
    parts = _SPEC_SEPARATOR.split(spec, maxsplit=1)
    if len(parts) == 1:
        return parts[0], None
    module, attr = parts
    if not module or not attr:
        raise AppNotFound(f"Invalid app spec {spec!r}: expected module:attr.")
    return module, attr


def import_string(spec: str) -> Any:
    """Import and return the object that ``spec`` names.

    ``module:attr`` (``attr`` may be dotted) returns the attribute; ``module`` or
    ``path/to/file.py`` alone returns the module. Raises :class:`AppNotFound`
    with a readable message when the module or attribute is missing.
    """
    module_part, attr = split_spec(spec)
    module = import_module(module_part)
    if attr is None:
        return module
    return _get_attr(module, attr)


def check_findable(spec: str) -> None:
    """Raise :class:`AppNotFound` if the module or file of ``spec`` does not exist.

    Nothing from the project is imported (only the first component of a dotted
    name is looked up), so a reloading parent process stays free of project code.
    """
    module_part, _ = split_spec(spec)
    _add_cwd_to_path()
    if _looks_like_path(module_part):
        _module_name_for_file(module_part)
        return
    top = module_part.partition(".")[0]
    if top not in sys.modules and importlib.util.find_spec(top) is None:
        raise AppNotFound(f"Could not import module {module_part!r}: No module named {top!r}")


def import_module(name_or_path: str) -> ModuleType:
    """Import a module by dotted name or by file path, with the cwd on ``sys.path``."""
    _add_cwd_to_path()
    if not _looks_like_path(name_or_path):
        return _import(name_or_path)
    path, name = _module_name_for_file(name_or_path)
    module = _import(name)
    origin = getattr(module, "__file__", None)
    if origin is None or Path(origin).resolve() != path:
        # The file's name is taken by another module (``json.py``, or an earlier
        # entry on sys.path); serving that one instead would baffle later.
        raise AppNotFound(
            f"Could not import {name_or_path!r} as module {name!r}: that name is taken by "
            f"{origin or 'a built-in module'}. Rename the file."
        )
    return module


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise AppNotFound(f"Could not import module {name!r}: {exc}") from exc


def load_app(spec: str | None = None) -> App:
    """Return the :class:`~satchel.app.App` that ``spec`` names (see the module docs)."""
    spec = resolve_spec(spec)
    module_part, attr = split_spec(spec)
    module = import_module(module_part)
    label = module.__name__
    if attr is not None:
        obj = _call_if_factory(_get_attr(module, attr))
        return _ensure_app(obj, f"{label}:{attr}")
    for name in _ATTR_NAMES:
        if hasattr(module, name):
            return _ensure_app(getattr(module, name), f"{label}:{name}")
    for name in _FACTORY_NAMES:
        factory = getattr(module, name, None)
        if callable(factory):
            return _ensure_app(factory(), f"{label}:{name}()")
    looked_for = ", ".join([*(repr(n) for n in _ATTR_NAMES), *(f"'{n}()'" for n in _FACTORY_NAMES)])
    raise AppNotFound(
        f"Module {label!r} has no attribute {looked_for}; {_found_apps(module)}. "
        f"Pass module:attr, e.g. '{label}:my_app'."
    )


def _get_attr(module: ModuleType, attr: str) -> Any:
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppNotFound(
                f"Module {module.__name__!r} has no attribute {attr!r}; {_found_apps(module)}. "
                "Pass module:attr."
            ) from None
    return obj


def _call_if_factory(obj: Any) -> Any:
    # A plain sync function that takes no arguments, named in the spec, is an app
    # factory (``module:create_app``); anything else is checked as it is, so a
    # handler named by mistake is reported rather than called.
    if inspect.isfunction(obj) and not inspect.iscoroutinefunction(obj):
        required = [
            p
            for p in inspect.signature(obj).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if not required:
            return obj()
    return obj


def _ensure_app(obj: Any, label: str) -> App:
    if isinstance(obj, App):
        return obj
    raise AppNotFound(f"{label!r} is not a Satchel App (got {_describe(obj)}).")


def _describe(obj: Any) -> str:
    if isinstance(obj, ModuleType):
        return f"module {obj.__name__}"
    if inspect.isclass(obj):
        return f"class {obj.__module__}.{obj.__qualname__}"
    if inspect.isroutine(obj):
        return f"function {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__} object"


def _found_apps(module: ModuleType) -> str:
    names = sorted(name for name, value in vars(module).items() if isinstance(value, App))
    if not names:
        return "found no App in it"
    return "found App " + ", ".join(repr(n) for n in names)


def _looks_like_path(name: str) -> bool:
    return name.endswith(".py") or "/" in name or os.sep in name


def _module_name_for_file(path_text: str) -> tuple[Path, str]:
    """Return a file's resolved path and dotted module name; put its root on ``sys.path``.

    A file inside a package is imported as part of that package, so its relative
    imports work and it is not imported twice under two names.
    """
    path = Path(path_text)
    if path.suffix != ".py":
        path = path.with_suffix(".py") if not path.is_dir() else path / "__init__.py"
    if not path.is_file():
        raise AppNotFound(f"Could not import module {path_text!r}: no file {str(path)!r}.")
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.append(directory.name)
        directory = directory.parent
    root = str(directory)
    if root not in sys.path:
        sys.path.insert(0, root)
    return path, ".".join(reversed(parts))


def _add_cwd_to_path() -> None:
    # The project being served is usually not installed; like ``python -m`` we
    # make modules in the current directory importable.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


__all__ = [
    "APP_ENV_VAR",
    "DEFAULT_FILES",
    "AppNotFound",
    "check_findable",
    "import_module",
    "import_string",
    "load_app",
    "resolve_spec",
    "split_spec",
]
