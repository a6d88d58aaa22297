"""Guards on routes and modules, ``request.user``, ``CurrentUser`` and what they cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from accounts_kit import HTML, JSON, PASSWORD, AddUser, MakeApp, QueryLog, login

from satchel import App, Module
from satchel.auth import (
    Auth,
    CurrentUser,
    Group,
    MaybeUser,
    Permission,
    User,
    login_required,
    permission_required,
    staff_required,
)
from satchel.auth.guards import guards_of
from satchel.db import Database
from satchel.exceptions import ImproperlyConfigured
from satchel.http.request import Request
from satchel.testing import TestClient


class Expensive:
    """Something a provider makes at a cost (a database session, say)."""


def grant(database: Database, user: User, *codenames: str, via_group: str | None = None) -> None:
    """Give ``user`` permissions directly, or through a new group called ``via_group``."""
    with database.session() as session:
        found = []
        for code in codenames:
            permission = Permission(codename=code, name=code)
            session.add(permission)
            found.append(permission)
        stored = session.get(User, user.id)
        assert stored is not None
        if via_group is None:
            stored.user_permissions.extend(found)
        else:
            group = Group(name=via_group, permissions=found)
            stored.groups.append(group)


def test_login_required_sends_browsers_to_the_login_page_and_apis_a_401(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    app, _ = make_app()

    @app.get("/dashboard")
    @login_required
    async def dashboard(user: CurrentUser) -> str:
        return f"hello {user.username}"

    with TestClient(app, follow_redirects=False) as client:
        browser = client.get("/dashboard", params={"tab": "a b"}, headers=HTML)
        assert browser.status_code == 303
        assert browser.headers["location"] == "/login?next=%2Fdashboard%3Ftab%3Da%2Bb"
        for headers in (JSON, {}, {"accept": "*/*"}):
            api = client.get("/dashboard", headers=headers)
            assert api.status_code == 401
            assert api.headers["content-type"] == "application/problem+json"
            assert api.headers["www-authenticate"] == "Bearer"
            assert api.json()["status"] == 401
        login(client, "ann", PASSWORD)
        assert client.get("/dashboard").text == "hello ann"


def test_the_guard_runs_before_the_handlers_providers_and_parameters(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    app, _ = make_app()
    opened: list[str] = []

    @app.provider
    async def expensive() -> AsyncIterator[Expensive]:
        opened.append("opened")
        yield Expensive()

    @app.get("/report")
    @login_required
    async def report(thing: Expensive, n: int) -> dict[str, int]:
        return {"n": n}

    with TestClient(app) as client:
        assert client.get("/report", params={"n": "not a number"}).status_code == 401
        assert client.get("/report", params={"n": "3"}).status_code == 401
        assert opened == []
        login(client, "ann", PASSWORD)
        assert client.get("/report", params={"n": "not a number"}).status_code == 422
        assert client.get("/report", params={"n": "3"}).json() == {"n": 3}
    assert opened  # once logged in, the provider runs


def test_guards_keep_the_handler_signature_and_work_on_sync_handlers(
    make_app: MakeApp, add_user: AddUser
) -> None:
    add_user("ann")
    app, _ = make_app()

    @app.get("/sync/{id:int}")
    @login_required
    def sync_page(id: int, request: Request) -> dict[str, object]:
        return {"id": id, "user": request.user.username}

    assert guards_of(sync_page) == (login_required,)
    assert sync_page.__name__ == "sync_page"
    with TestClient(app) as client:
        assert client.get("/sync/7").status_code == 401
        login(client, "ann", PASSWORD)
        assert client.get("/sync/7").json() == {"id": 7, "user": "ann"}


@pytest.mark.parametrize("via_group", [None, "editors"])
def test_permission_required_all_and_any(
    make_app: MakeApp, add_user: AddUser, database: Database, via_group: str | None
) -> None:
    ann = add_user("ann")
    grant(database, ann, "blog.publish_post", "blog.edit_post", via_group=via_group)
    add_user("bob")
    add_user("root", is_superuser=True, is_staff=True)
    app, _ = make_app()

    @app.post("/posts/{id:int}/publish")
    @permission_required("blog.publish_post")
    async def publish(id: int) -> dict[str, int]:
        return {"published": id}

    @app.post("/both")
    @permission_required("blog.publish_post", "blog.delete_post")
    async def both() -> str:
        return "both"

    @app.post("/either")
    @permission_required("blog.delete_post", "blog.edit_post", require="any")
    async def either() -> str:
        return "either"

    def statuses(client: TestClient) -> list[int]:
        return [client.post(path).status_code for path in ("/posts/1/publish", "/both", "/either")]

    with TestClient(app) as anonymous:
        assert statuses(anonymous) == [401, 401, 401]
    for name, expected in (("ann", [200, 403, 200]), ("bob", [403, 403, 403]), ("root", [200] * 3)):
        with TestClient(app) as client:
            login(client, name, PASSWORD)
            assert statuses(client) == expected, name
    with TestClient(app) as client:
        login(client, "bob", PASSWORD)
        refused = client.post("/both", headers=HTML)
        assert refused.status_code == 403  # logged in: a 403 page, not a trip to login
        assert "text/html" in refused.headers["content-type"]


def test_permission_required_refuses_bad_codenames_at_import() -> None:
    with pytest.raises(ImproperlyConfigured, match="at least one"):
        permission_required()
    with pytest.raises(ImproperlyConfigured, match="not a codename"):
        permission_required("publish")
    with pytest.raises(ImproperlyConfigured, match="require must be"):
        permission_required("blog.x", require="some")


def test_guards_on_a_whole_module(make_app: MakeApp, add_user: AddUser, database: Database) -> None:
    add_user("ann")
    add_user("staffer", is_staff=True)
    editor = add_user("editor")
    grant(database, editor, "blog.view_post")
    app, _ = make_app()
    admin = Module("admin", prefix="/admin")
    admin.guards.append(staff_required)

    @admin.get("/")
    async def home(user: CurrentUser) -> str:
        return f"admin for {user.username}"

    blog = Module("blog", prefix="/blog")
    blog.guards.append(login_required)
    blog.guards.append(permission_required("blog.view_post"))

    @blog.get("/drafts")
    async def drafts() -> str:
        return "drafts"

    app.include(admin)
    app.include(blog)

    @app.get("/public")
    async def public(user: MaybeUser) -> str:
        return user.username or "anonymous"

    with TestClient(app, follow_redirects=False) as client:
        redirect = client.get("/admin/", headers=HTML)
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/login?next=%2Fadmin%2F"
        assert client.get("/blog/drafts").status_code == 401
        assert client.get("/public").text == "anonymous"
    expected = {"ann": (403, 403), "staffer": (200, 403), "editor": (403, 200)}
    for name, (admin_status, blog_status) in expected.items():
        with TestClient(app) as client:
            login(client, name, PASSWORD)
            assert client.get("/admin/").status_code == admin_status, name
            assert client.get("/blog/drafts").status_code == blog_status, name
            assert client.get("/public").text == name


def test_current_user_refuses_anonymous_requests_and_maybe_user_does_not(
    make_app: MakeApp,
) -> None:
    app, _ = make_app()

    @app.get("/me")
    async def me(user: CurrentUser) -> str:
        return user.username

    @app.get("/maybe")
    async def maybe(user: MaybeUser) -> dict[str, object]:
        return {"auth": user.is_authenticated, "anon": user.is_anonymous, "id": user.id}

    with TestClient(app) as client:
        assert client.get("/me").status_code == 401
        assert client.get("/maybe").json() == {"auth": False, "anon": True, "id": None}


def test_auth_must_come_before_the_app_starts(database: Database) -> None:
    app = App(database=database)
    app.freeze()
    with pytest.raises(ImproperlyConfigured, match="before the app starts serving"):
        Auth(app)
    fresh = App(database=database)
    Auth(fresh)
    with pytest.raises(ImproperlyConfigured, match="once"):
        Auth(fresh)
    with pytest.raises(ImproperlyConfigured, match="prefix"):
        Auth(App(database=database), prefix="accounts/")


def test_a_guard_without_auth_says_what_is_missing() -> None:
    app = App()

    @app.get("/x")
    @login_required
    async def x() -> str:
        return "x"

    with TestClient(app) as client, pytest.raises(ImproperlyConfigured, match=r"Auth\(app\)"):
        client.get("/x")


def test_the_pages_move_with_the_prefix(make_app: MakeApp, add_user: AddUser) -> None:
    add_user("ann")
    app, _ = make_app(prefix="/accounts")

    @app.get("/private")
    @login_required
    async def private() -> str:
        return "private"

    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/login").status_code == 404
        assert '<form method="post" action="/accounts/login">' in client.get("/accounts/login").text
        redirect = client.get("/private", headers=HTML)
        assert redirect.headers["location"] == "/accounts/login?next=%2Fprivate"
        response = client.post(
            "/accounts/login",
            data={"username": "ann", "password": PASSWORD, "next": "/private"},
        )
        assert response.headers["location"] == "/private"
        assert client.get("/private").text == "private"
        assert client.post("/accounts/logout").headers["location"] == "/accounts/login"


def test_the_projects_template_replaces_the_packages(make_app: MakeApp, tmp_path: Path) -> None:
    override = tmp_path / "templates" / "auth"
    override.mkdir(parents=True)
    (override / "login.html").write_text("<p>Our own login: {{ site_name }}</p>{{ csrf_input() }}")
    app, _ = make_app(title="Shop")
    with TestClient(app) as client:
        text = client.get("/login").text
    assert text.startswith("<p>Our own login: Shop</p>")


def test_views_false_gives_an_api_only_setup(make_app: MakeApp) -> None:
    app, auth = make_app(views=False)

    @app.get("/private")
    @login_required
    async def private() -> str:
        return "private"

    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/login").status_code == 404
        assert client.get("/private", headers=HTML).status_code == 401  # nowhere to send them
    assert auth.login_path is None


# -- what it costs ---------------------------------------------------------------------


def test_an_authenticated_page_costs_one_query_and_an_anonymous_one_none(
    make_app: MakeApp, add_user: AddUser, queries: QueryLog, database: Database
) -> None:
    add_user("ann")
    app, _ = make_app()

    @app.get("/page")
    async def page_view(request: Request) -> str:
        return f"{request.user.username}|{request.user.is_authenticated}"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    @app.post("/publish")
    @permission_required("blog.publish_post")
    async def publish() -> str:
        return "done"

    log = queries
    with TestClient(app) as client:
        log.clear()
        assert client.get("/page").text == "|False"
        assert len(log) == 0
        client.get("/login")  # an anonymous session (CSRF secret), still no login
        log.clear()
        assert client.get("/page").text == "|False"
        assert len(log) == 0
        login(client, "ann", PASSWORD)
        log.clear()
        assert client.get("/page").text == "ann|True"
        assert len(log) == 1
        log.clear()
        client.get("/plain")  # the user is loaded even when the page doesn't use it
        assert len(log) == 1
        log.clear()
        assert client.post("/publish").status_code == 403
        assert len(log) == 2  # the user, then its permissions


def test_static_files_and_opted_out_routes_do_not_load_the_user(
    make_app: MakeApp, add_user: AddUser, queries: QueryLog, tmp_path: Path
) -> None:
    add_user("ann")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body{}")
    app, auth = make_app()
    app.static("/static", tmp_path / "static")

    @app.get("/health", load_user=False)
    async def health(request: Request) -> str:
        return "ok"

    @app.get("/health/user", load_user=False)
    async def health_user(request: Request) -> str:
        return str(request.user.username)

    @app.get("/health/awaited", load_user=False)
    async def health_awaited(request: Request) -> str:
        return str((await auth.get_user(request)).username)

    with TestClient(app) as client:
        login(client, "ann", PASSWORD)
        queries.clear()
        assert client.get("/static/site.css").text == "body{}"
        assert client.get("/health").text == "ok"
        assert len(queries) == 0
        with pytest.raises(ImproperlyConfigured, match=r"await auth\.get_user"):
            client.get("/health/user")
        assert client.get("/health/awaited").text == "ann"
