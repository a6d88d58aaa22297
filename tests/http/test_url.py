import time
from urllib.parse import quote

import pytest

from satchel.exceptions import BadRequest, PayloadTooLarge, URITooLong
from satchel.http.datastructures import QueryParams
from satchel.http.url import (
    MAX_QUERY_PARAMS,
    URL,
    check_path,
    parse_query_string,
    parse_urlencoded,
    quote_path_segment,
    urlencode,
)

# -- URL ------------------------------------------------------------------------------


def test_url_is_a_string_with_components() -> None:
    url = URL("https://ann:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag")
    assert url == "https://ann:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag"
    assert isinstance(url, str)
    assert url.scheme == "https"
    assert url.netloc == "ann:secret@Example.COM:8443"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.username == "ann"
    assert url.password == "secret"
    assert url.path == "/a%20b/c"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert url.is_secure
    assert repr(url) == "URL('https://ann:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag')"
    lookup: dict[str, int] = {url: 1}
    assert lookup["https://ann:secret@Example.COM:8443/a%20b/c?x=1&y=2#frag"] == 1


def test_url_without_port_or_host() -> None:
    url = URL("/relative/path")
    assert url.scheme == ""
    assert url.hostname is None
    assert url.port is None
    assert url.path == "/relative/path"
    assert not url.is_secure


def test_url_replace_components() -> None:
    url = URL("http://example.com/a?x=1")
    replaced = url.replace(scheme="https", path="/b", fragment="top")
    assert isinstance(replaced, URL)
    assert replaced == "https://example.com/b?x=1#top"
    assert url.replace(query="") == "http://example.com/a"


def test_url_replace_hostname_and_port_keep_the_rest() -> None:
    url = URL("https://user:pw@Example.com:8080/p")
    assert url.replace(port=None) == "https://user:pw@Example.com/p"
    assert url.replace(port=9000) == "https://user:pw@Example.com:9000/p"
    assert url.replace(hostname="other.org") == "https://user:pw@other.org:8080/p"
    ipv6 = URL("http://[::1]:80/x")
    assert ipv6.replace(port=81) == "http://[::1]:81/x"
    assert ipv6.replace(hostname="::2") == "http://[::2]:80/x"


def test_url_replace_rejects_bad_arguments() -> None:
    url = URL("http://example.com/")
    with pytest.raises(TypeError, match="unknown components: colour"):
        url.replace(colour="red")
    with pytest.raises(TypeError, match="not both"):
        url.replace(netloc="a", port=1)


def test_url_replace_with_positional_args_is_str_replace() -> None:
    url = URL("http://example.com/http")
    assert url.replace("http", "ftp", 1) == "ftp://example.com/http"
    assert url.replace("http", "ftp") == "ftp://example.com/ftp"


def test_include_query_params() -> None:
    url = URL("http://example.com/search?q=old&page=2#r")
    assert url.include_query_params(q="new value") == (
        "http://example.com/search?page=2&q=new%20value#r"
    )
    assert url.include_query_params(tag=["a", "b"], page=None) == (
        "http://example.com/search?q=old&tag=a&tag=b#r"
    )
    assert URL("http://e.com/").include_query_params(a=1) == "http://e.com/?a=1"


# -- parse_query_string ---------------------------------------------------------------


def test_query_basic_pairs_and_repeats() -> None:
    params = parse_query_string("a=1&b=2&a=3")
    assert isinstance(params, QueryParams)
    assert params["a"] == "1"
    assert params.getall("a") == ["1", "3"]
    assert params.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]


def test_query_blank_values_kept_and_empty_pieces_skipped() -> None:
    params = parse_query_string("a=&b&&c=3&")
    assert params.multi_items() == [("a", ""), ("b", ""), ("c", "3")]
    assert parse_query_string("").multi_items() == []


def test_query_decoding_plus_and_percent() -> None:
    params = parse_query_string("q=hello+world&name=J%C3%BCrgen&sym=%2B%26%3D&k%20ey=v")
    assert params["q"] == "hello world"
    assert params["name"] == "Jürgen"
    assert params["sym"] == "+&="
    assert params["k ey"] == "v"


def test_query_only_ampersand_separates() -> None:
    params = parse_query_string("a=1;b=2")
    assert params.multi_items() == [("a", "1;b=2")]


def test_query_value_may_contain_equals() -> None:
    assert parse_query_string("token=a=b==")["token"] == "a=b=="


def test_query_round_trips_arbitrary_text() -> None:
    text = "ünïcødé / & = + % 🙂 \t"
    encoded = f"{quote(text, safe='')}={quote(text, safe='')}"
    assert parse_query_string(encoded).multi_items() == [(text, text)]


def test_query_raw_utf8_bytes_from_asgi_are_decoded() -> None:
    # ASGI gives the query string as bytes; the request decodes them as latin-1.
    raw = "q=café".encode().decode("latin-1")
    assert parse_query_string(raw)["q"] == "café"


@pytest.mark.parametrize(
    "qs", ["a=%zz", "a=%", "a=%2", "a=%g0", "%zz=1", "a=1&b=100%", "a=%%41", "a=%+1"]
)
def test_query_malformed_percent_encoding_is_400(qs: str) -> None:
    with pytest.raises(BadRequest, match="Malformed percent-encoding in query string") as info:
        parse_query_string(qs)
    assert info.value.status_code == 400


@pytest.mark.parametrize("qs", ["a=%ff%fe", "a=%C3", "a=%C0%AF", "%ED%A0%80=x"])
def test_query_invalid_utf8_is_400(qs: str) -> None:
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        parse_query_string(qs)


def test_query_raw_invalid_utf8_bytes_are_400() -> None:
    raw = b"a=\xff\xfe".decode("latin-1")
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        parse_query_string(raw)


def test_query_param_limit() -> None:
    at_limit = "&".join(f"k{i}=v" for i in range(MAX_QUERY_PARAMS))
    assert len(parse_query_string(at_limit).multi_items()) == MAX_QUERY_PARAMS
    assert len(parse_query_string(at_limit + "&").multi_items()) == MAX_QUERY_PARAMS
    with pytest.raises(BadRequest, match="more than 1000 parameters"):
        parse_query_string(at_limit + "&one=more")
    with pytest.raises(BadRequest, match="more than 3 parameters"):
        parse_query_string("a&b&c&d", max_params=3)
    assert parse_query_string("a&b&c", max_params=3).getall("a") == [""]


def test_query_with_100k_params_fails_fast() -> None:
    qs = "&".join(f"k{i}=v" for i in range(100_000))
    start = time.perf_counter()
    with pytest.raises(BadRequest):
        parse_query_string(qs)
    assert time.perf_counter() - start < 2.0


def test_query_ampersand_flood_fails_fast() -> None:
    qs = "&" * 5_000_000 + "a=1"
    start = time.perf_counter()
    with pytest.raises(BadRequest):
        parse_query_string(qs)
    assert time.perf_counter() - start < 2.0


def test_huge_single_value_query_parses_in_bounded_time() -> None:
    qs = "q=" + "%C3%BC" * 200_000
    start = time.perf_counter()
    assert parse_query_string(qs)["q"] == "ü" * 200_000
    assert time.perf_counter() - start < 2.0


def test_parse_urlencoded_uses_413_for_too_many_fields() -> None:
    assert parse_urlencoded("a=1&b=2", max_fields=2)["b"] == "2"
    with pytest.raises(PayloadTooLarge, match="form body has more than 2 fields"):
        parse_urlencoded("a=1&b=2&c=3", max_fields=2)
    with pytest.raises(BadRequest, match="in form body"):
        parse_urlencoded("a=%zz", max_fields=2)


# -- check_path -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/a/b", "/caf\u00e9/%41", "/100%25", "/a b"])
def test_check_path_accepts_good_paths(path: str) -> None:
    check_path(path)


def test_check_path_too_long_is_414() -> None:
    check_path("/" + "a" * 8191)
    with pytest.raises(URITooLong) as info:
        check_path("/" + "a" * 8192)
    assert info.value.status_code == 414
    with pytest.raises(URITooLong):
        check_path("/abcdef", max_length=5)


@pytest.mark.parametrize("path", ["/a%", "/a%z1", "/%%", "/x%4"])
def test_check_path_bad_percent_is_400(path: str) -> None:
    with pytest.raises(BadRequest, match="percent-encoding in path"):
        check_path(path)


@pytest.mark.parametrize("char", ["\x00", "\r", "\n", "\t", "\x1f", "\x7f"])
def test_check_path_control_characters_are_400(char: str) -> None:
    with pytest.raises(BadRequest, match="control character"):
        check_path(f"/a{char}b")


# -- quoting --------------------------------------------------------------------------


def test_quote_path_segment() -> None:
    assert quote_path_segment("plain-text_1.~") == "plain-text_1.~"
    assert quote_path_segment("a/b") == "a%2Fb"
    assert quote_path_segment("a b?c#d%") == "a%20b%3Fc%23d%25"
    assert quote_path_segment("user@host:1") == "user@host:1"
    assert quote_path_segment("x;y") == "x%3By"
    assert quote_path_segment("é") == "%C3%A9"


def test_urlencode_mapping_and_pairs() -> None:
    assert urlencode({"a": 1, "b": "x y"}) == "a=1&b=x%20y"
    assert urlencode([("a", "1"), ("a", "2")]) == "a=1&a=2"
    assert urlencode({"tags": ["x", None, "z"], "skip": None}) == "tags=x&tags=z"
    assert urlencode({"t": (1, 2)}) == "t=1&t=2"
    assert urlencode({"on": True, "off": False}) == "on=true&off=false"
    assert urlencode({"k&=": "v&=/"}) == "k%26%3D=v%26%3D%2F"
    assert urlencode({}) == ""


def test_urlencode_round_trips_through_parser() -> None:
    params = {"q": "ü & + = % /", "n": ["1", "2"], "blank": ""}
    parsed = parse_query_string(urlencode(params))
    assert parsed.multi_items() == [
        ("q", "ü & + = % /"),
        ("n", "1"),
        ("n", "2"),
        ("blank", ""),
    ]
