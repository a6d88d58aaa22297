"""`import satchel` stays light: batteries load only when an app uses them."""

import json
import subprocess
import sys

HEAVY = [
    "pydantic",
    "pydantic_settings",
    "jinja2",
    "markupsafe",
    "sqlalchemy",
    "alembic",
    "python_multipart",
    "multipart",
    "itsdangerous",
    "argon2",
    "redis",
    "granian",
    "httpx",
    "click",
    "satchel.templates",
    "satchel.db",
    "satchel.auth",
    "satchel.admin",
    "satchel.forms",
    "satchel.sessions",
    "satchel.security",
    "satchel.openapi",
]


def loaded_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_import_satchel_loads_no_battery():
    modules = loaded_after("import satchel")
    assert "satchel.app" in modules
    heavy = sorted(m for m in HEAVY if m in modules)
    assert heavy == [], f"import satchel loaded {heavy}"


def test_lazy_names_load_on_use():
    modules = loaded_after("from satchel import FileResponse, StreamingResponse")
    assert "satchel.http.files" in modules
    assert "pydantic" not in modules
