"""Binding posted data: browser conventions, validation, errors, typed results."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import EmailStr, Field, SecretStr, field_validator, model_validator

from satchel import App, Request
from satchel.exceptions import ImproperlyConfigured
from satchel.forms import BoundForm, Choices, Form, LongText
from satchel.http.datastructures import MultiDict
from satchel.testing import TestClient


class ContactForm(Form):
    email: EmailStr
    message: str = Field(min_length=10)


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class OrderForm(Form):
    name: str
    quantity: int = Field(ge=1, le=10)
    size: Size
    toppings: list[Literal["cheese", "ham", "olives"]] = []
    gift: bool = False
    note: str | None = None
    deliver_on: datetime.date | None = None


def test_contact_get_is_unbound_and_post_is_validated(form_app: Any) -> None:
    client = TestClient(form_app(ContactForm))
    page = client.get("/form")
    assert page.status_code == 200
    assert "errorlist" not in page.text  # an unbound form shows no errors

    ok = client.post("/form", data={"email": "ann@example.com", "message": "Hello there!"})
    assert ok.status_code == 200
    assert ok.json() == {
        "ok": True,
        "data": {"email": "ann@example.com", "message": "Hello there!"},
    }

    bad = client.post("/form", data={"email": "nope", "message": "short"})
    assert bad.status_code == 422
    assert "at least 10 characters" in bad.text
    assert "valid email address" in bad.text


def test_the_contract_handler_flow() -> None:
    app = App(csrf_enabled=False)
    seen: list[BoundForm[ContactForm]] = []

    @app.route("/contact", methods=["GET", "POST"])
    async def contact(request: Request) -> Any:
        form = await ContactForm.from_request(request)
        seen.append(form)
        if form.is_valid():
            return {"email": form.data.email, "message": form.cleaned_data.message}
        return {"errors": form.errors, "bound": form.is_bound}

    client = TestClient(app)
    assert client.get("/contact").json() == {"errors": {}, "bound": False}
    assert not seen[-1].is_valid()
    result = client.post("/contact", data={"email": "a@b.example", "message": "0123456789"})
    assert result.json() == {"email": "a@b.example", "message": "0123456789"}
    assert isinstance(seen[-1].data, ContactForm)


def test_post_values_are_typed(form_app: Any) -> None:
    client = TestClient(form_app(OrderForm))
    response = client.post(
        "/form",
        data={
            "name": "Ann",
            "quantity": "3",
            "size": "l",
            "toppings": ["cheese", "olives"],
            "gift": "on",
            "note": "",
            "deliver_on": "2030-05-01",
        },
    )
    assert response.json()["data"] == {
        "name": "Ann",
        "quantity": 3,
        "size": "l",
        "toppings": ["cheese", "olives"],
        "gift": True,
        "note": None,
        "deliver_on": "2030-05-01",
    }


def test_missing_checkbox_is_false_and_empty_optional_is_none() -> None:
    form = OrderForm.bind(MultiDict([("name", "A"), ("quantity", "1"), ("size", "s")]))
    assert form.is_valid()
    assert form.data.gift is False
    assert form.data.note is None
    assert form.data.deliver_on is None
    assert form.data.toppings == []


@pytest.mark.parametrize(("posted", "ticked"), [("on", True), ("yes", True), ("false", False)])
def test_checkbox_values(posted: str, ticked: bool) -> None:
    data = MultiDict([("name", "A"), ("quantity", "1"), ("size", "s"), ("gift", posted)])
    assert OrderForm.bind(data).data.gift is ticked


def test_required_checkbox_must_be_ticked() -> None:
    class Terms(Form):
        agree: bool  # no default: the box must be ticked, as in Django

    assert Terms.bind({}).errors == {"agree": ["This field is required."]}
    assert Terms.bind({"agree": "on"}).data.agree is True

    class MustTick(Form):
        agree: Literal[True]

    assert MustTick.bind({}).errors == {"agree": ["This field is required."]}
    assert MustTick.bind({"agree": "on"}).is_valid()


def test_empty_required_text_is_required_not_empty_string() -> None:
    class Named(Form):
        name: str
        nickname: str = "anon"

    form = Named.bind({"name": "", "nickname": ""})
    assert form.errors == {"name": ["This field is required."]}
    ok = Named.bind({"name": "Ann", "nickname": ""})
    assert ok.data.nickname == "anon"  # left empty: the default applies


def test_value_outside_choices_is_a_field_error_not_a_crash(form_app: Any) -> None:
    client = TestClient(form_app(OrderForm))
    response = client.post(
        "/form",
        data={"name": "A", "quantity": "1", "size": "XL", "toppings": ["ham", "anchovies"]},
    )
    assert response.status_code == 422
    form = OrderForm.bind(
        MultiDict([("name", "A"), ("quantity", "1"), ("size", "XL"), ("toppings", "x")])
    )
    assert form.errors == {
        "size": ["Select a valid choice."],
        "toppings": ["Select a valid choice."],
    }


def test_int_literal_and_int_enum_choices_are_converted() -> None:
    class Level(enum.IntEnum):
        LOW = 1
        HIGH = 2

    class Rating(Form):
        stars: Literal[1, 2, 3]
        level: Level

    form = Rating.bind({"stars": "2", "level": "2"})
    assert form.data.stars == 2
    assert form.data.level is Level.HIGH


def test_static_and_callable_choices() -> None:
    calls: list[int] = []

    def colours() -> list[tuple[str, str]]:
        calls.append(1)
        return [("r", "Red"), ("g", "Green")]

    class Paint(Form):
        colour: Annotated[str, Choices(colours)]
        finish: Annotated[str, Choices(["matt", "gloss"])] = "matt"

    form = Paint.bind({"colour": "g", "finish": "gloss"})
    assert form.data.colour == "g"
    assert form.data.finish == "gloss"
    assert Paint.bind({"colour": "blue"}).errors == {"colour": ["Select a valid choice."]}
    assert len(calls) == 2  # a callable runs on every bind: options stay fresh


def test_choices_passed_when_binding_override_and_turn_a_field_into_a_select() -> None:
    class Assign(Form):
        owner_id: int

    form = Assign.bind({"owner_id": "7"}, choices={"owner_id": [(7, "Ann"), (8, "Bob")]})
    assert form.data.owner_id == 7
    assert form["owner_id"].input_type == "select"
    refused = Assign.bind({"owner_id": "9"}, choices={"owner_id": [(7, "Ann")]})
    assert refused.errors == {"owner_id": ["Select a valid choice."]}
    with pytest.raises(ImproperlyConfigured, match="unknown field"):
        Assign.bind({}, choices={"owner": []})


async def test_async_choices_load_in_from_request_and_refuse_sync_bind() -> None:
    async def load() -> list[str]:
        return ["a", "b"]

    class Pick(Form):
        letter: Annotated[str, Choices(load)]

    with pytest.raises(ImproperlyConfigured, match="async choices"):
        Pick.bind({"letter": "a"})

    app = App(csrf_enabled=False)

    @app.route("/pick", methods=["GET", "POST"])
    async def pick(request: Request) -> Any:
        form = await Pick.from_request(request)
        return {"valid": form.is_valid(), "options": [c.key for c in form["letter"].choices]}

    client = TestClient(app)
    assert client.get("/pick").json() == {"valid": False, "options": ["a", "b"]}
    assert client.post("/pick", data={"letter": "b"}).json()["valid"] is True
    assert client.post("/pick", data={"letter": "z"}).json()["valid"] is False


def test_model_validators_give_form_errors_and_field_validators_field_errors() -> None:
    class Signup(Form):
        username: str
        password: SecretStr
        confirm: SecretStr

        @field_validator("username")
        @classmethod
        def no_admin(cls, value: str) -> str:
            if value.lower() == "admin":
                raise ValueError("That name is reserved.")
            return value

        @model_validator(mode="after")
        def passwords_match(self) -> Signup:
            if self.password.get_secret_value() != self.confirm.get_secret_value():
                raise ValueError("The passwords do not match.")
            return self

    form = Signup.bind({"username": "ann", "password": "abc", "confirm": "abd"})
    assert not form.is_valid()
    assert form.errors == {}
    assert form.form_errors == ["The passwords do not match."]
    assert form.has_errors

    reserved = Signup.bind({"username": "Admin", "password": "a", "confirm": "a"})
    assert reserved.errors == {"username": ["That name is reserved."]}


def test_validators_see_the_request_in_their_context() -> None:
    from pydantic import ValidationInfo

    class Tagged(Form):
        tag: str

        @field_validator("tag")
        @classmethod
        def from_path(cls, value: str, info: ValidationInfo) -> str:
            request = (info.context or {}).get("request")
            return f"{value}@{request.url.path}" if request is not None else value

    app = App(csrf_enabled=False)

    @app.post("/tag")
    async def tag(request: Request) -> Any:
        form = await Tagged.from_request(request)
        return {"tag": form.data.tag}

    assert TestClient(app).post("/tag", data={"tag": "x"}).json() == {"tag": "x@/tag"}


def test_repeated_single_field_first_value_wins() -> None:
    form = ContactForm.bind(
        MultiDict(
            [("email", "first@example.com"), ("email", "second@example.com"), ("message", "x" * 12)]
        )
    )
    assert form.data.email == "first@example.com"
    assert form["email"].value == "first@example.com"


def test_unknown_extra_fields_are_ignored(form_app: Any) -> None:
    client = TestClient(form_app(ContactForm))
    response = client.post(
        "/form",
        data={"email": "a@example.com", "message": "long enough!", "is_admin": "1", "id": "5"},
    )
    assert response.json() == {
        "ok": True,
        "data": {"email": "a@example.com", "message": "long enough!"},
    }


def test_data_before_validation_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match="was not submitted"):
        _ = ContactForm.unbound().data
    with pytest.raises(ValueError, match="has errors"):
        _ = ContactForm.bind({"email": "x"}).data


def test_field_access_and_iteration() -> None:
    form = ContactForm.unbound()
    assert [f.name for f in form.fields] == ["email", "message"]
    assert [f.name for f in form] == ["email", "message"]
    assert form.email is form["email"]
    assert "message" in form
    with pytest.raises(KeyError, match="fields: email, message"):
        form["nope"]
    with pytest.raises(AttributeError):
        _ = form.nope


def test_prefix_namespaces_two_forms_on_one_page() -> None:
    data = MultiDict(
        [("a-email", "a@example.com"), ("a-message", "0123456789"), ("b-email", "bad")]
    )
    first = ContactForm.bind(data, prefix="a")
    second = ContactForm.bind(data, prefix="b")
    assert first.is_valid()
    assert first["email"].name == "a-email"
    assert first["email"].id == "id_a-email"
    assert set(second.errors) == {"email", "message"}


def test_initial_from_mapping_or_object_fills_an_unbound_form() -> None:
    class Row:
        email = "row@example.com"
        message = "from a row"

    assert ContactForm.unbound(initial={"email": "x@example.com"})["email"].value == (
        "x@example.com"
    )
    assert ContactForm.unbound(initial=Row())["message"].value == "from a row"
    assert OrderForm.unbound(initial={"size": Size.LARGE})["size"].value == "l"


def test_query_parameters_can_bind_a_search_form() -> None:
    class Search(Form):
        q: str = ""
        page: int = Field(1, ge=1)

    app = App()

    @app.get("/search")
    async def search(request: Request) -> Any:
        form = Search.bind(request.query)
        return form.data.model_dump() if form.is_valid() else {"errors": form.errors}

    client = TestClient(app)
    assert client.get("/search?q=cats&page=2").json() == {"q": "cats", "page": 2}
    assert "page" in client.get("/search?page=0").json()["errors"]


def test_populate_sets_validated_values_on_an_object() -> None:
    class Target:
        email = ""
        message = ""

    form = ContactForm.bind({"email": "p@example.com", "message": "0123456789"})
    target = form.populate(Target(), exclude={"message"})
    assert target.email == "p@example.com"
    assert target.message == ""


def test_subclass_adds_fields_and_keeps_its_own_specs() -> None:
    class WithPhone(ContactForm):
        phone: str = Field("", max_length=20)

    assert [f.name for f in WithPhone.unbound().fields] == ["email", "message", "phone"]
    assert [f.name for f in ContactForm.unbound().fields] == ["email", "message"]
    form = WithPhone.bind({"email": "a@example.com", "message": "0123456789", "phone": "1" * 21})
    assert list(form.errors) == ["phone"]


def test_aliased_field_is_posted_under_its_name() -> None:
    class Aliased(Form):
        user_name: str = Field(alias="userName")

    form = Aliased.bind({"user_name": "ann"})
    assert form.data.user_name == "ann"
    assert Aliased.bind({}).errors == {"user_name": ["This field is required."]}


def test_markers_do_not_break_the_json_schema() -> None:
    class Marked(Form):
        colour: Annotated[str, Choices(["r", "g"])]
        body: Annotated[str, LongText] = ""

    schema = Marked.model_json_schema()
    assert set(schema["properties"]) == {"colour", "body"}
