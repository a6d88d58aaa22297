"""The routes the battery adds: /openapi.json (cached bytes, ETag), /docs and its
assets (hashed URLs, long caching, strict CSP), when they are on, and the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from satchel import App, ImproperlyConfigured
from satchel.openapi import docs as docs_module
from satchel.openapi import endpoints
from satchel.testing import TestClient

SECRET = "endpoint-tests-secret-key-0123456789abcdefghij"
SRC = Path(__file__).resolve().parents[2] / "src"


def make_app(**settings: object) -> App:
    settings.setdefault("secret_key", SECRET)
    app = App(title="T <API>", **settings)  # type: ignore[arg-type]

    @app.get("/items/{id:int}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    return app


def test_schema_and_docs_are_served_in_debug() -> None:
    client = TestClient(make_app(debug=True))
    got = client.get("/openapi.json")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    document = got.json()
    validate(document)
    assert list(document["paths"]) == ["/items/{id}"]  # its own routes are left out
    assert client.get("/docs").status_code == 200


def test_off_in_production_unless_enabled() -> None:
    client = TestClient(make_app())
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404
    client = TestClient(make_app(openapi_in_production=True))
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_urls_can_be_renamed_or_turned_off() -> None:
    client = TestClient(make_app(debug=True, openapi_url="/api/schema.json", docs_url="/api/ui"))
    assert client.get("/api/schema.json").status_code == 200
    page = client.get("/api/ui").text
    assert 'data-openapi-url="/api/schema.json"' in page
    assert "/api/ui/assets/swagger-ui-bundle." in page
    assert client.get("/openapi.json").status_code == 404

    client = TestClient(make_app(debug=True, docs_url=None))
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 404

    client = TestClient(make_app(debug=True, openapi_url=None))
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404


def test_an_app_route_on_the_same_path_is_a_clear_error() -> None:
    app = make_app(debug=True)

    @app.get("/docs")
    async def my_docs() -> str:
        return "mine"

    with pytest.raises(ImproperlyConfigured, match="docs_url to another path"):
        app.freeze()
    app = make_app(debug=True, docs_url="/api-docs")

    @app.get("/docs")
    async def my_docs_again() -> str:
        return "mine"

    client = TestClient(app)
    assert client.get("/docs").text == "mine"
    assert client.get("/api-docs").status_code == 200


def test_schema_is_generated_once_and_served_as_cached_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import satchel.openapi.generator as generator

    calls = []
    real = generator.generate_openapi
    monkeypatch.setattr(generator, "generate_openapi", lambda app: calls.append(1) or real(app))
    app = make_app(debug=True)
    client = TestClient(app)
    first = client.get("/openapi.json")
    second = client.get("/openapi.json")
    assert calls == [1]
    assert first.content == second.content
    body, _ = endpoints.encoded_schema(app)
    assert endpoints.encoded_schema(app)[0] is body  # the same bytes object every time


def test_schema_etag_gives_304() -> None:
    client = TestClient(make_app(debug=True))
    first = client.get("/openapi.json")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/openapi.json", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/openapi.json", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200


def test_behind_a_prefix_the_schema_names_its_server() -> None:
    app = make_app(debug=True)
    client = TestClient(app, root_path="/shop")
    document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/shop"}]
    page = client.get("/docs").text
    assert 'data-openapi-url="/shop/openapi.json"' in page
    assert "/shop/docs/assets/" in page
    # Without the prefix, the cached document of the other root path is not reused.
    assert "servers" not in TestClient(app).get("/openapi.json").json()


def test_docs_page_is_csp_strict_and_escapes_the_title() -> None:
    got = TestClient(make_app(debug=True)).get("/docs")
    assert got.headers["content-type"] == "text/html; charset=utf-8"
    csp = got.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    page = got.text
    assert "<title>T &lt;API&gt; - API docs</title>" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
    assert "style=" not in page and "<style" not in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


def test_assets_have_hashed_urls_and_long_caching() -> None:
    client = TestClient(make_app(debug=True))
    page = client.get("/docs").text
    urls = re.findall(r'(?:href|src)="(/docs/assets/[^"]+)"', page)
    assert len(urls) == 4
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(js|css)$", url)
        got = client.get(url, headers={"accept-encoding": "identity"})
        assert got.status_code == 200
        assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert got.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert "content-encoding" not in got.headers
        name = url.rsplit("/", 1)[1]
        asset = docs_module.load_assets().by_file[name]
        assert got.content == asset.body
        assert got.headers["etag"] == asset.etag
        again = client.get(url, headers={"if-none-match": asset.etag})
        assert again.status_code == 304


def test_bundle_is_sent_gzipped_to_clients_that_accept_it() -> None:
    client = TestClient(make_app(debug=True))
    name = docs_module.load_assets().served_name["swagger-ui-bundle.js"]
    got = client.get(f"/docs/assets/{name}", headers={"accept-encoding": "gzip, br"})
    assert got.headers["content-encoding"] == "gzip"
    assert got.headers["vary"] == "Accept-Encoding"
    assert int(got.headers["content-length"]) < 700_000  # 1.7 MB unpacked
    assert b"SwaggerUIBundle" in got.content  # httpx decoded it
    refused = client.get(f"/docs/assets/{name}", headers={"accept-encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "name",
    [
        "swagger-ui-bundle.js",  # the unhashed name
        "swagger-ui-bundle.000000000000.js",
        "..%2F__init__.py",
        "LICENSE",
        "README.md",
    ],
)
def test_unknown_assets_are_404(name: str) -> None:
    assert TestClient(make_app(debug=True)).get(f"/docs/assets/{name}").status_code == 404


def test_assets_ship_with_the_license() -> None:
    folder = Path(docs_module.__file__).parent / "static"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "SmartBear" in (folder / "NOTICE").read_text()
    assert docs_module.SWAGGER_UI_VERSION in (folder / "README.md").read_text()


def _imports_after(code: str) -> set[str]:
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import sys
        print(",".join(sorted(m for m in sys.modules if m.startswith("satchel.openapi"))))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    return set(out.split(",")) if out else set()


def test_generator_loads_on_first_schema_request_only() -> None:
    setup = f"""
        from satchel import App, ImproperlyConfigured
        from satchel.testing import TestClient
        app = App(debug=True, secret_key={SECRET!r})

        @app.get("/x")
        async def x() -> dict:
            return {{}}

        client = TestClient(app)
        assert client.get("/x").status_code == 200
    """
    loaded = _imports_after(setup)
    assert "satchel.openapi.endpoints" in loaded
    assert "satchel.openapi.generator" not in loaded
    loaded = _imports_after(textwrap.dedent(setup) + "client.get('/openapi.json')\n")
    assert "satchel.openapi.generator" in loaded


def test_nothing_is_loaded_when_the_schema_is_off() -> None:
    loaded = _imports_after(
        f"""
        from satchel import App, ImproperlyConfigured
        app = App(secret_key={SECRET!r})
        app.freeze()
        """
    )
    assert loaded <= {"satchel.openapi", "satchel.openapi.registry"}


# -- satchel openapi ----------------------------------------------------------------


APP_SOURCE = """
from pydantic import BaseModel
from satchel import App, ImproperlyConfigured

app = App(title="CLI API")  # not in debug: the command works all the same


class Out(BaseModel):
    n: int


@app.get("/n")
async def n() -> Out:
    return Out(n=1)
"""


def _satchel(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("satchel")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "satchel.cli.main"]
    return subprocess.run(
        [*argv, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )


def test_cli_writes_the_document_to_stdout_and_files(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text(APP_SOURCE)
    done = _satchel(tmp_path, "openapi", "api:app")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    assert document["info"]["title"] == "CLI API"
    assert "Out" in document["components"]["schemas"]

    done = _satchel(tmp_path, "openapi", "api.py", "-o", "schema.json", "--compact")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "schema.json").read_text()
    assert json.loads(text) == document
    assert text.count("\n") == 1
    assert "schema.json" in done.stderr


def test_cli_reports_a_missing_app(tmp_path: Path) -> None:
    done = _satchel(tmp_path, "openapi", "nowhere:app")
    assert done.returncode != 0
    assert "nowhere" in done.stderr
