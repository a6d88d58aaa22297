import pytest

from satchel.exceptions import ImproperlyConfigured, RouteConflict
from satchel.routing.converters import DEFAULT_CONVERTERS, IntConverter
from satchel.routing.route import Route, parse_template
from satchel.routing.router import Router


def make(path, methods=("GET",), name=None):
    def endpoint():
        return None

    endpoint.__name__ = name or "h"
    return Route(
        path,
        endpoint,
        frozenset(methods),
        name or path,
        segments=parse_template(path, DEFAULT_CONVERTERS),
    )


@pytest.fixture
def router():
    r = Router()
    r.add(make("/", name="root"))
    r.add(make("/users/{id:int}", name="user"))
    r.add(make("/users/{name}", ["GET", "POST"], name="user_by_name"))
    r.add(make("/users/me", name="me"))
    r.add(make("/files/{rest:path}", name="files"))
    r.add(make("/dl/{stem}.{ext:slug}", name="dl"))
    r.add(make("/items/{id:uuid}", name="item"))
    return r


def test_static_wins_over_params(router):
    route, params, _ = router.match("GET", "/users/me")
    assert route.name == "me"
    assert params == {}


def test_typed_param_wins_over_str(router):
    route, params, _ = router.match("GET", "/users/42")
    assert route.name == "user"
    assert params == {"id": 42}
    route, params, _ = router.match("GET", "/users/bob")
    assert route.name == "user_by_name"
    assert params == {"name": "bob"}


def test_backtracks_to_a_branch_with_the_method(router):
    # POST exists only on the str route, so /users/42 must fall back to it.
    route, params, _ = router.match("POST", "/users/42")
    assert route.name == "user_by_name"
    assert params == {"name": "42"}


def test_method_not_allowed_lists_methods(router):
    route, _, allowed = router.match("DELETE", "/users/42")
    assert route is None
    assert allowed == {"GET", "HEAD", "POST"}


def test_head_follows_get(router):
    route, _, _ = router.match("HEAD", "/users/3")
    assert route.name == "user"


def test_not_found(router):
    assert router.match("GET", "/nothing/here") == (None, None, None)
    assert router.match("GET", "/users/") == (None, None, None)


def test_path_and_mixed_segments(router):
    _, params, _ = router.match("GET", "/files/a/b/c.txt")
    assert params == {"rest": "a/b/c.txt"}
    _, params, _ = router.match("GET", "/dl/report.final.pdf")
    assert params == {"stem": "report.final", "ext": "pdf"}


def test_identical_routes_are_a_startup_error():
    r = Router()
    r.add(make("/a/{x}", name="first"))
    with pytest.raises(RouteConflict) as info:
        r.add(make("/a/{y}", name="second"))
    assert "'/a/{x}'" in str(info.value) and "'/a/{y}'" in str(info.value)


def test_same_shape_different_methods_is_fine():
    r = Router()
    r.add(make("/a/{x}", ["GET"], name="first"))
    r.add(make("/a/{y}", ["POST"], name="second"))
    assert r.match("POST", "/a/1")[1] == {"y": "1"}
    assert r.match("GET", "/a/1")[1] == {"x": "1"}


def test_url_for_builds_and_encodes(router):
    assert router.url_for("user", {"id": 3}) == "/users/3"
    assert router.url_for("user_by_name", {"name": "a b/c"}) == "/users/a%20b%2Fc"
    assert router.url_for("files", {"rest": "x y/z"}) == "/files/x%20y/z"
    assert router.url_for("user", {"id": 3, "q": "é&x", "tag": ["a", "b"]}) == (
        "/users/3?q=%C3%A9%26x&tag=a&tag=b"
    )
    assert router.url_for("dl", {"stem": "a", "ext": "pdf"}) == "/dl/a.pdf"


def test_url_for_errors_are_clear(router):
    with pytest.raises(ImproperlyConfigured, match="no route named 'nope'"):
        router.url_for("nope", {})
    with pytest.raises(ImproperlyConfigured, match="missing parameters: id"):
        router.url_for("user", {})
    with pytest.raises(ImproperlyConfigured, match="does not fit"):
        router.url_for("user", {"id": "abc"})


def test_bad_templates_fail_at_startup():
    with pytest.raises(ImproperlyConfigured, match="unknown converter"):
        parse_template("/a/{x:nope}", DEFAULT_CONVERTERS)
    with pytest.raises(ImproperlyConfigured, match="start with '/'"):
        parse_template("a", DEFAULT_CONVERTERS)
    with pytest.raises(ImproperlyConfigured, match="repeats"):
        parse_template("/{a}/{a}", DEFAULT_CONVERTERS)
    with pytest.raises(ImproperlyConfigured, match="final segment"):
        parse_template("/{a:path}/x", DEFAULT_CONVERTERS)
    with pytest.raises(ImproperlyConfigured, match="malformed"):
        parse_template("/{a", DEFAULT_CONVERTERS)


def test_custom_converter():
    class Even(IntConverter):
        def convert(self, value):
            number = super().convert(value)
            if number % 2:
                raise ValueError(value)
            return number

    converters = {**DEFAULT_CONVERTERS, "even": Even()}
    r = Router()
    route = Route(
        "/n/{n:even}",
        lambda: None,
        frozenset({"GET"}),
        "n",
        segments=parse_template("/n/{n:even}", converters),
    )
    r.add(route)
    assert r.match("GET", "/n/4")[1] == {"n": 4}
    assert r.match("GET", "/n/3") == (None, None, None)


def test_long_int_segment_does_not_match(router):
    # Bounded work: a 5000-digit "id" is not an int route match.
    route, _, _ = router.match("GET", "/users/" + "9" * 5000)
    assert route.name == "user_by_name"


def test_url_for_encodes_dot_segments(router):
    assert router.url_for("user_by_name", {"name": ".."}) == "/users/%2E%2E"
    assert router.url_for("user_by_name", {"name": "."}) == "/users/%2E"
