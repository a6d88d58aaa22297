import copy
import pickle

import pytest

from satchel.http.datastructures import (
    Address,
    FormData,
    MultiDict,
    QueryParams,
    State,
    UploadFile,
)
from satchel.http.headers import Headers

# -- MultiDict ------------------------------------------------------------------------


def test_multidict_first_value_wins_like_headers() -> None:
    md = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert md["a"] == "1"
    assert md.get("a") == "1"
    assert md.getall("a") == ["1", "3"]
    headers = Headers([("a", "1"), ("a", "3")])
    assert md["a"] == headers["a"]


def test_multidict_iterates_unique_keys_in_first_seen_order() -> None:
    md = MultiDict([("b", "1"), ("a", "2"), ("b", "3")])
    assert list(md) == ["b", "a"]
    assert len(md) == 2
    assert list(md.keys()) == ["b", "a"]
    assert list(md.values()) == ["1", "2"]
    assert md.multi_items() == [("b", "1"), ("a", "2"), ("b", "3")]


def test_multidict_missing_keys() -> None:
    md = MultiDict([("a", "1")])
    with pytest.raises(KeyError):
        md["zzz"]
    assert md.get("zzz") is None
    assert md.get("zzz", "d") == "d"
    assert md.getall("zzz") == []
    assert "zzz" not in md
    assert 1 not in md  # type: ignore[comparison-overlap]
    assert "a" in md


def test_multidict_from_mapping_none_and_other_multidict() -> None:
    assert MultiDict({"a": "1"}).multi_items() == [("a", "1")]
    assert len(MultiDict()) == 0
    original = MultiDict([("a", "1"), ("a", "2")])
    copied = MultiDict(original)
    assert copied.getall("a") == ["1", "2"]


def test_multi_items_is_a_copy() -> None:
    md = MultiDict([("a", "1")])
    md.multi_items().append(("b", "2"))
    assert "b" not in md
    assert md.multi_items() == [("a", "1")]


def test_multidict_equality() -> None:
    a = MultiDict([("x", "1"), ("y", "2"), ("x", "3")])
    # Order across keys is irrelevant, order within a key is not.
    assert a == MultiDict([("y", "2"), ("x", "1"), ("x", "3")])
    assert a != MultiDict([("x", "3"), ("y", "2"), ("x", "1")])
    assert a != MultiDict([("x", "1"), ("y", "2")])
    assert a != {"x": "1", "y": "2"}
    assert QueryParams([("a", "1")]) == MultiDict([("a", "1")])


def test_multidict_is_unhashable_and_has_repr() -> None:
    md = QueryParams([("a", "1")])
    with pytest.raises(TypeError):
        hash(md)
    assert repr(md) == "QueryParams([('a', '1')])"


def test_multidict_has_no_setters() -> None:
    md = MultiDict([("a", "1")])
    with pytest.raises(TypeError):
        md["a"] = "2"  # type: ignore[index]


# -- Address, State -------------------------------------------------------------------


def test_address_is_a_named_tuple() -> None:
    addr = Address("127.0.0.1", 8000)
    assert addr.host == "127.0.0.1"
    assert addr.port == 8000
    assert addr == ("127.0.0.1", 8000)
    host, port = addr
    assert (host, port) == ("127.0.0.1", 8000)


def test_state_attributes_and_mapping_access() -> None:
    state = State({"a": 1})
    state.user = "ann"
    assert state.user == "ann"
    assert state["user"] == "ann"
    state["n"] = 2
    assert state.n == 2
    assert "n" in state
    assert set(state) == {"a", "user", "n"}
    assert len(state) == 3
    assert state.get("missing", 5) == 5
    del state.n
    del state["a"]
    assert "n" not in state
    assert state._dict == {"user": "ann"}
    assert repr(state) == "State({'user': 'ann'})"


def test_state_missing_attribute_explains_itself() -> None:
    state = State()
    with pytest.raises(AttributeError, match=r"'user'.*set it first"):
        _ = state.user
    assert not hasattr(state, "user")
    assert getattr(state, "user", None) is None
    with pytest.raises(AttributeError, match="to delete"):
        del state.user
    with pytest.raises(KeyError):
        state["user"]


def test_state_instances_do_not_share_values() -> None:
    one, two = State(), State()
    one.x = 1
    assert "x" not in two


def test_state_copies_and_pickles() -> None:
    state = State({"a": [1]})
    clone = copy.deepcopy(state)
    clone.a.append(2)
    assert state.a == [1]
    assert pickle.loads(pickle.dumps(state)).a == [1]
    assert copy.copy(state).a is state.a


# -- UploadFile, FormData -------------------------------------------------------------


async def test_upload_file_write_seek_read() -> None:
    upload = UploadFile(filename="a.txt", content_type="text/plain")
    await upload.write(b"hello ")
    await upload.write(b"world")
    assert upload.size == 11
    assert upload.in_memory
    assert await upload.seek(0) == 0
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b" world"
    assert upload.file.tell() == 11
    await upload.close()
    assert upload.file.closed


async def test_upload_file_spools_to_disk_past_threshold() -> None:
    upload = UploadFile(filename="big.bin", spool_max_size=10)
    await upload.write(b"x" * 5)
    assert upload.in_memory
    await upload.write(b"y" * 10)
    assert not upload.in_memory
    await upload.write(b"z")
    await upload.seek(0)
    assert await upload.read() == b"x" * 5 + b"y" * 10 + b"z"
    assert upload.size == 16
    await upload.close()
    assert upload.file.closed


def test_upload_file_defaults_and_repr() -> None:
    upload = UploadFile()
    assert upload.filename is None
    assert upload.content_type == "application/octet-stream"
    assert upload.headers == Headers()
    assert upload.size == 0
    assert repr(upload) == (
        "UploadFile(filename=None, content_type='application/octet-stream', size=0)"
    )
    upload.file.close()


async def test_form_data_close_closes_every_upload() -> None:
    one, two = UploadFile(filename="1"), UploadFile(filename="2", spool_max_size=1)
    await two.write(b"on disk")
    form = FormData([("a", "text"), ("f", one), ("f", two)])
    assert form["a"] == "text"
    assert form.getall("f") == [one, two]
    await form.close()
    assert one.file.closed
    assert two.file.closed
    await form.close()  # a second close is harmless
