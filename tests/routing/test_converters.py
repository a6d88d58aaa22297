import uuid

import pytest

from satchel.routing.converters import (
    FloatConverter,
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)


def test_int_converter_accepts_digits_only():
    conv = IntConverter()
    assert conv.convert("42") == 42
    for bad in ["-1", "1.0", "", "abc", "٣", "1" * 20]:
        with pytest.raises(ValueError):
            conv.convert(bad)
    assert conv.to_url(7) == "7"
    with pytest.raises(ValueError):
        conv.to_url(-1)
    with pytest.raises(ValueError):
        conv.to_url(True)


def test_float_converter_is_finite():
    conv = FloatConverter()
    assert conv.convert("1.5") == 1.5
    assert conv.convert("2") == 2.0
    for bad in ["nan", "inf", "1e400", "1.2.3", "-1", ""]:
        with pytest.raises(ValueError):
            conv.convert(bad)
    assert conv.to_url(2.0) == "2"
    assert conv.to_url(2.5) == "2.5"


def test_uuid_slug_str_path():
    value = uuid.uuid4()
    assert UUIDConverter().convert(str(value)) == value
    with pytest.raises(ValueError):
        UUIDConverter().convert("not-a-uuid")
    assert SlugConverter().convert("a-b_c9") == "a-b_c9"
    with pytest.raises(ValueError):
        SlugConverter().convert("a b")
    with pytest.raises(ValueError):
        StringConverter().convert("")
    assert PathConverter().convert("a/b/c") == "a/b/c"
