"""Rendering: the right control per type, constraints as attributes, errors wired to ARIA."""

from __future__ import annotations

import datetime
import decimal
import enum
from typing import Annotated, Any, Literal

import jinja2
import pytest
from markupsafe import Markup
from pydantic import AnyUrl, EmailStr, Field, SecretStr

from satchel.forms import FileField, Form, Hidden, LongText, Password, Widget
from satchel.http.datastructures import MultiDict, UploadFile
from satchel.testing import TestClient


class Colour(enum.Enum):
    RED = "red"
    DARK_BLUE = "blue"


class Everything(Form):
    name: str = Field(min_length=2, max_length=20, pattern=r"^[a-z]+$")
    email: EmailStr
    website: AnyUrl | None = None
    age: int = Field(ge=18, lt=130)
    price: decimal.Decimal = Field(gt=0, multiple_of=decimal.Decimal("0.01"))
    ratio: float | None = None
    subscribe: bool = True
    born: datetime.date | None = None
    meet_at: datetime.datetime | None = None
    wake: datetime.time | None = None
    secret: SecretStr
    pin: Annotated[str, Password] = ""
    colour: Colour = Colour.RED
    tags: list[Literal["a", "b", "c"]] = ["a", "c"]
    size: Literal["s", "m"] | None = None
    avatar: Annotated[UploadFile, FileField(content_types=["image/png", "image/*"])]
    bio: Annotated[str, LongText] = ""
    token: Annotated[str, Hidden] = "t0k"
    code: str = Field("", json_schema_extra={"widget": "tel"})


def test_each_annotation_gives_its_control(html: Any) -> None:
    page = html(Everything.unbound().render())
    expected = {
        "name": ("input", "text"),
        "email": ("input", "email"),
        "website": ("input", "url"),
        "age": ("input", "number"),
        "price": ("input", "number"),
        "ratio": ("input", "number"),
        "subscribe": ("input", "checkbox"),
        "born": ("input", "date"),
        "meet_at": ("input", "datetime-local"),
        "wake": ("input", "time"),
        "secret": ("input", "password"),
        "pin": ("input", "password"),
        "colour": ("select", None),
        "tags": ("select", None),
        "size": ("select", None),
        "avatar": ("input", "file"),
        "bio": ("textarea", None),
        "token": ("input", "hidden"),
        "code": ("input", "tel"),
    }
    for name, (tag, kind) in expected.items():
        control = page.control(name)
        assert (control.tag, control.attrs.get("type")) == (tag, kind), name


def test_constraints_become_html_attributes(html: Any) -> None:
    page = html(Everything.unbound().render())
    name = page.control("name").attrs
    assert (name["minlength"], name["maxlength"], name["pattern"]) == ("2", "20", "^[a-z]+$")
    age = page.control("age").attrs
    assert (age["min"], age["max"]) == ("18", "129")  # lt=130 on an int is max 129
    price = page.control("price").attrs
    assert price["step"] == "0.01"
    assert page.control("ratio").attrs["step"] == "any"  # floats must accept decimals
    assert page.control("avatar").attrs["accept"] == "image/png,image/*"


def test_unanchored_pattern_is_wrapped_so_the_browser_searches_like_pydantic(html: Any) -> None:
    class Code(Form):
        code: str = Field(pattern=r"\d")

    assert html(Code.unbound().render()).control("code").attrs["pattern"] == r".*(?:\d).*"


def test_required_label_and_defaults(html: Any) -> None:
    page = html(Everything.unbound().render())
    assert page.control("email").has("required")
    assert not page.control("website").has("required")
    assert page.control("subscribe").has("checked")  # default True
    assert page.find("label", for_="id_meet_at").text == "Meet at"
    assert page.find_all("label", for_="id_token") == []  # hidden: no label
    selected = [o.attrs["value"] for o in page.control("tags").children if o.has("selected")]
    assert selected == ["a", "c"]
    colour = page.control("colour")
    assert [(o.attrs["value"], o.text) for o in colour.children] == [
        ("", "---------"),
        ("red", "Red"),
        ("blue", "Dark blue"),
    ]
    assert page.control("tags").has("multiple")
    assert page.control("token").attrs["value"] == "t0k"


def test_titles_descriptions_and_widget_labels(html: Any) -> None:
    class Profile(Form):
        handle: str = Field(title="Your handle", description="Shown on your posts.")
        motto: Annotated[str, Widget(label="Motto", attrs={"placeholder": "Carpe diem"})] = ""

    page = html(Profile.unbound().render())
    assert page.find("label", for_="id_handle").text == "Your handle"
    assert page.find("small", id="id_handle_help").text == "Shown on your posts."
    assert page.control("handle").attrs["aria-describedby"] == "id_handle_help"
    assert page.control("motto").attrs["placeholder"] == "Carpe diem"


def test_errors_are_linked_with_aria(html: Any) -> None:
    form = Everything.bind(MultiDict([("name", "X"), ("email", "nope")]))
    page = html(form.render())
    email = page.control("email")
    assert email.attrs["aria-invalid"] == "true"
    assert email.attrs["aria-describedby"] == "id_email_error"
    errors = page.find("ul", id="id_email_error")
    assert "valid email address" in errors.text
    assert "field-error" in (page.find_all("div")[1].attrs["class"] or "")
    # A valid field carries no aria-invalid.
    assert "aria-invalid" not in page.control("bio").attrs


def test_posted_values_are_kept_even_when_invalid(html: Any) -> None:
    data = MultiDict(
        [
            ("name", "Bad Name!"),
            ("age", "twelve"),
            ("secret", "hunter2"),
            ("pin", "1234"),
            ("bio", "\nline one\nline two"),
            ("tags", "b"),
            ("subscribe", "on"),
        ]
    )
    form = Everything.bind(data)
    assert not form.is_valid()
    page = html(form.render())
    assert page.control("name").attrs["value"] == "Bad Name!"
    assert page.control("age").attrs["value"] == "twelve"
    # Passwords never go back to the browser.
    assert "value" not in page.control("secret").attrs
    assert "value" not in page.control("pin").attrs
    assert "hunter2" not in str(form.render())
    assert "1234" not in str(form.render())
    # The leading newline survives the parser's newline-after-<textarea> rule.
    assert page.control("bio").text == "\n\nline one\nline two"
    tags = page.control("tags")
    assert [o.attrs["value"] for o in tags.children if o.has("selected")] == ["b"]
    assert page.control("subscribe").has("checked")


def test_unticked_checkbox_is_shown_unticked_after_post(html: Any) -> None:
    form = Everything.bind(MultiDict([("name", "x")]))
    assert not html(form.render()).control("subscribe").has("checked")


def test_initial_values_are_formatted_for_their_controls(html: Any) -> None:
    initial = {
        "born": datetime.date(2000, 2, 29),
        "meet_at": datetime.datetime(2030, 1, 2, 9, 5),
        "wake": datetime.time(6, 30),
        "colour": Colour.DARK_BLUE,
        "secret": SecretStr("never shown"),
        "website": "https://example.com/",
    }
    page = html(Everything.unbound(initial=initial).render())
    assert page.control("born").attrs["value"] == "2000-02-29"
    assert page.control("meet_at").attrs["value"] == "2030-01-02T09:05"
    assert page.control("wake").attrs["value"] == "06:30:00"
    selected = [o.attrs["value"] for o in page.control("colour").children if o.has("selected")]
    assert selected == ["blue"]
    assert "value" not in page.control("secret").attrs


def test_form_errors_render_first(html: Any) -> None:
    from pydantic import model_validator

    class Pair(Form):
        a: int
        b: int

        @model_validator(mode="after")
        def ordered(self) -> Pair:
            if self.a > self.b:
                raise ValueError("a must not exceed b")
            return self

    page = html(Pair.bind({"a": "2", "b": "1"}).render())
    first = page.elements[0]
    assert first.tag == "ul"
    assert first.attrs["class"] == "errorlist nonfield"
    assert first.text == "a must not exceed b"


def test_hand_layout_parts(html: Any) -> None:
    form = Everything.bind(MultiDict([("email", "bad")]))
    field = form.email
    assert (field.name, field.id, field.value) == ("email", "id_email", "bad")
    assert field.errors and field.required and field.input_type == "email"
    label = html(field.label_tag(class_="lbl")).find("label")
    assert label.attrs == {"for": "id_email", "class": "lbl"}
    widget = html(field.widget(class_="input", data_role="mail")).find("input")
    assert widget.attrs["class"] == "input"
    assert widget.attrs["data-role"] == "mail"
    assert html(field.errors_tag()).find("ul").attrs["id"] == field.error_id
    assert form.enctype == "multipart/form-data"  # it has a file field


def test_jinja_autoescape_renders_fields_without_double_escaping(html: Any) -> None:
    env = jinja2.Environment(autoescape=True)
    template = env.from_string(
        "<form>{{ form.email }}{% for f in form.fields %}<p>{{ f.label_tag() }}</p>"
        "{% endfor %}{{ form.email.value }}</form>"
    )
    form = Everything.bind(MultiDict([("email", "<b>x</b>")]))
    out = template.render(form=form)
    page = html(out)
    assert page.control("email").attrs["value"] == "<b>x</b>"
    assert "<b>" not in out  # the raw value is escaped both in the attribute and as text
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    assert len(page.find_all("p")) == len(form.fields)
    assert isinstance(form.email.__html__(), str)
    assert isinstance(form.render(), Markup)


@pytest.mark.parametrize(
    "payload",
    [
        '"><script>alert(1)</script>',
        "' onmouseover='alert(1)",
        '" autofocus onfocus="alert(1)',
        "</textarea><script>alert(1)</script>",
        "</option></select><img src=x onerror=alert(1)>",
    ],
)
def test_hostile_values_are_escaped_in_every_field(payload: str, html: Any) -> None:
    names = ["name", "email", "website", "age", "bio", "token", "code", "colour", "tags", "size"]
    form = Everything.bind(MultiDict([(n, payload) for n in names]))
    out = str(form.render())
    page = html(out)
    assert "script" not in page.tags()
    assert "img" not in page.tags()
    for element in page.elements:
        assert not any(a.startswith("on") for a in element.attrs), element
        assert "autofocus" not in element.attrs
    for name in ("name", "email", "website", "age", "token", "code"):
        assert page.control(name).attrs["value"] == payload
    assert page.control("bio").text == "\n" + payload


def test_hostile_choice_labels_and_help_text_are_escaped(html: Any) -> None:
    from satchel.forms import Choices

    class Evil(Form):
        pick: Annotated[str, Choices([("<x>", "<script>1</script>")])] = Field(
            description="<img src=x onerror=alert(1)>", title="<b>Label</b>"
        )

    page = html(Evil.unbound(initial={"pick": "<x>"}).render())
    assert "script" not in page.tags() and "img" not in page.tags() and "b" not in page.tags()
    option = page.control("pick").children[1]
    assert (option.attrs["value"], option.text) == ("<x>", "<script>1</script>")
    assert option.has("selected")


def test_attribute_names_from_templates_are_checked() -> None:
    field = Everything.unbound().email
    with pytest.raises(ValueError, match="not a valid HTML attribute"):
        field.widget(**{'x" onclick="y': "1"})


def test_rendered_page_through_the_app(form_app: Any, html: Any) -> None:
    client = TestClient(form_app(Everything))
    page = html(client.get("/form").text)
    form = page.find("form")
    assert form.attrs["enctype"] == "multipart/form-data"
    assert page.control("email").attrs["type"] == "email"
