"""Typed forms: a pydantic model that knows how to bind a request and render itself.

::

    class ContactForm(Form):
        email: EmailStr
        message: Annotated[str, LongText] = Field(min_length=10)

    form = await ContactForm.from_request(request)   # BoundForm[ContactForm]
    if form.is_valid():
        send(form.data.email, form.data.message)      # form.data is a ContactForm

The class *is* the pydantic model (validators, ``model_config``, JSON Schema all
work as usual); binding returns a :class:`BoundForm` that holds what was posted,
the errors, the validated model and the fields to render.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict

from satchel.exceptions import ImproperlyConfigured
from satchel.forms.binding import MISSING, FieldError, extract, get_all, validate
from satchel.forms.fields import BoundField
from satchel.forms.render import error_list
from satchel.forms.spec import Choice, FieldSpec, build_specs, normalize_choices
from satchel.forms.widgets import ChoiceSource, resolve_items

if TYPE_CHECKING:
    from typing import Self

    from satchel.http.request import Request

F = TypeVar("F", bound="Form")

#: Methods whose requests carry a submitted form; others give an unbound form.
_SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Form(BaseModel):
    """Base class of typed forms: declare fields as on any pydantic model.

    Bind with :meth:`from_request` (async, any handler), :meth:`bind` (a mapping
    or multi-dict you already have) or :meth:`unbound` (an empty form to render).
    """

    # Uploads are plain UploadFile objects; pydantic checks them with isinstance.
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="ignore")

    __form_specs__: ClassVar[dict[str, FieldSpec]]

    @classmethod
    def form_specs(cls) -> dict[str, FieldSpec]:
        """Return the field specs of this form class (built once, then cached)."""
        specs = cls.__dict__.get("__form_specs__")
        if specs is None:
            if not cls.__pydantic_complete__:
                cls.model_rebuild()
            specs = build_specs(cls.model_fields)
            cls.__form_specs__ = specs
        return specs

    @classmethod
    async def from_request(
        cls,
        request: Request,
        *,
        initial: Any = None,
        choices: Mapping[str, ChoiceSource] | None = None,
        session: Any = None,
        prefix: str = "",
    ) -> BoundForm[Self]:
        """Return the form bound to a submitted request, or unbound on ``GET``/``HEAD``.

        ``POST``/``PUT``/``PATCH``/``DELETE`` read ``await request.form()``
        (urlencoded or multipart; its limits give 413, malformed bodies 400) and
        validate. ``initial`` (a mapping or an object read with ``getattr``) fills an
        unbound form. ``choices`` gives or overrides a field's options; ``session``
        is for options loaded from the database (``model_form`` foreign keys).
        """
        loaded = await _load_choices(cls, choices, session)
        context = {"request": request, "session": session}
        if request.method.upper() in _SUBMIT_METHODS:
            data = await request.form()
            return BoundForm(cls, data, initial, loaded, prefix, context)
        return BoundForm(cls, None, initial, loaded, prefix, context)

    @classmethod
    def bind(
        cls,
        data: Any,
        *,
        initial: Any = None,
        choices: Mapping[str, ChoiceSource] | None = None,
        prefix: str = "",
        context: dict[str, Any] | None = None,
    ) -> BoundForm[Self]:
        """Return the form bound to ``data`` (a ``FormData``, ``QueryParams`` or mapping).

        Synchronous: options must be static or come from sync callables; use
        :meth:`from_request` for async loaders and the database.
        """
        return BoundForm(cls, data, initial, _load_choices_sync(cls, choices), prefix, context)

    @classmethod
    def unbound(
        cls,
        *,
        initial: Any = None,
        choices: Mapping[str, ChoiceSource] | None = None,
        prefix: str = "",
    ) -> BoundForm[Self]:
        """Return an empty form showing ``initial`` values (or the fields' defaults)."""
        return BoundForm(cls, None, initial, _load_choices_sync(cls, choices), prefix, None)


class BoundForm(Generic[F]):
    """A form class bound to submitted data (or unbound, to render an empty form).

    Fields are reached as ``form["email"]`` or ``form.email`` (use ``[]`` for a
    field whose name is also an attribute here, such as ``data`` or ``errors``)
    and iterated with ``form.fields``.
    """

    def __init__(
        self,
        form_class: type[F],
        data: Any,
        initial: Any,
        choices: dict[str, tuple[Choice, ...]],
        prefix: str = "",
        context: dict[str, Any] | None = None,
    ) -> None:
        self.form_class = form_class
        self.specs = form_class.form_specs()
        self.prefix = prefix
        self.is_bound = data is not None
        self.raw = data
        self.initial = initial
        self._choices = choices
        #: Error messages per field name.
        self.errors: dict[str, list[str]] = {}
        #: Errors about the form as a whole (model validators).
        self.form_errors: list[str] = []
        self._data: F | None = None
        self._fields = {name: BoundField(self, spec) for name, spec in self.specs.items()}
        if self.is_bound:
            self._validate(context)

    def _validate(self, context: dict[str, Any] | None) -> None:
        values: dict[str, Any] = {}
        early: dict[str, list[str]] = {}
        for name, spec in self.specs.items():
            try:
                value = extract(spec, self.raw_values(name), self.choices_for(name))
            except FieldError as exc:
                early[name] = [exc.message]
                continue
            if value is not MISSING:
                values[spec.key] = value
        model, errors, form_errors = validate(self.form_class, values, self.specs, context)
        # A field that failed before validation keeps that one message, not a "required".
        errors.update(early)
        self.errors = {name: errors[name] for name in self.specs if name in errors}
        self.form_errors = form_errors
        if model is not None and not early:
            self._data = model  # type: ignore[assignment]

    # -- reading ---------------------------------------------------------------------

    def is_valid(self) -> bool:
        """Return whether the form was submitted and every check passed."""
        return self._data is not None

    @property
    def data(self) -> F:
        """The validated form (an instance of the form class); only when valid."""
        if self._data is None:
            state = "was not submitted" if not self.is_bound else "has errors"
            raise ValueError(
                f"{self.form_class.__name__} {state}: read form.data only after "
                "form.is_valid() returned True (errors are in form.errors)"
            )
        return self._data

    @property
    def cleaned_data(self) -> F:
        """Alias of :attr:`data` (Django's name)."""
        return self.data

    @property
    def has_errors(self) -> bool:
        """Whether any field or form-wide error is set."""
        return bool(self.errors or self.form_errors)

    @property
    def fields(self) -> list[BoundField]:
        """Every field, in declaration order."""
        return list(self._fields.values())

    @property
    def visible_fields(self) -> list[BoundField]:
        """The fields that are not hidden inputs."""
        return [f for f in self._fields.values() if not f.is_hidden]

    @property
    def hidden_fields(self) -> list[BoundField]:
        """The hidden-input fields."""
        return [f for f in self._fields.values() if f.is_hidden]

    @property
    def is_multipart(self) -> bool:
        """Whether the form has a file field (and must be posted as multipart)."""
        return any(spec.kind == "file" for spec in self.specs.values())

    @property
    def enctype(self) -> str:
        """The ``enctype`` for the ``<form>`` tag."""
        if self.is_multipart:
            return "multipart/form-data"
        return "application/x-www-form-urlencoded"

    def html_name(self, name: str) -> str:
        """Return the posted name of field ``name`` (with the form's prefix)."""
        return f"{self.prefix}-{name}" if self.prefix else name

    def raw_values(self, name: str) -> list[Any]:
        """Return every value posted for field ``name`` (strings and uploads)."""
        if self.raw is None:
            return []
        return get_all(self.raw, self.html_name(name))

    def initial_value(self, name: str) -> Any:
        """Return the initial value of field ``name``: from ``initial`` or its default."""
        initial = self.initial
        if isinstance(initial, Mapping):
            if name in initial:
                return initial[name]
        elif initial is not None and hasattr(initial, name):
            return getattr(initial, name)
        return self.specs[name].default()

    def choices_for(self, name: str) -> tuple[Choice, ...] | None:
        """Return the options of field ``name`` (``None`` when it is not a select)."""
        loaded = self._choices.get(name)
        if loaded is not None:
            return loaded
        return self.specs[name].static_choices

    def cleaned_field(self, name: str) -> Any:
        """Return the validated value of field ``name`` (``None`` until valid)."""
        return getattr(self._data, name) if self._data is not None else None

    def populate(self, obj: Any, *, exclude: set[str] | frozenset[str] = frozenset()) -> Any:
        """Set every validated field on ``obj`` (a model row) and return it."""
        data = self.data
        for name in self.specs:
            if name not in exclude:
                setattr(obj, name, getattr(data, name))
        return obj

    # -- access and HTML -------------------------------------------------------------

    def __getitem__(self, name: str) -> BoundField:
        try:
            return self._fields[name]
        except KeyError:
            known = ", ".join(self._fields) or "none"
            raise KeyError(
                f"{self.form_class.__name__} has no field {name!r} (fields: {known})"
            ) from None

    def __getattr__(self, name: str) -> BoundField:
        fields = self.__dict__.get("_fields")
        if fields is not None and name in fields:
            return fields[name]  # type: ignore[no-any-return]
        raise AttributeError(f"{type(self).__name__} has no attribute or field {name!r}")

    def __iter__(self) -> Iterator[BoundField]:
        return iter(self._fields.values())

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def form_errors_tag(self) -> Markup:
        """Return the list of form-wide errors (empty markup when there are none)."""
        return error_list(self.form_errors, self.html_name("form_errors"), "errorlist nonfield")

    def render(self) -> Markup:
        """Return every field rendered in order, form-wide errors first.

        The ``<form>`` tag, the CSRF input and the submit button stay in the
        template: ``<form method="post" enctype="{{ form.enctype }}">``.
        """
        parts = [self.form_errors_tag()]
        parts.extend(field.render() for field in self._fields.values())
        return Markup("\n").join(p for p in parts if p)

    def __html__(self) -> str:
        return str(self.render())

    def __str__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        state = "valid" if self.is_valid() else ("invalid" if self.is_bound else "unbound")
        return f"<BoundForm {self.form_class.__name__} {state}>"


async def _load_choices(
    cls: type[Form], overrides: Mapping[str, ChoiceSource] | None, session: Any
) -> dict[str, tuple[Choice, ...]]:
    """Load every dynamic option list (sync or async callables, the database)."""
    loaded: dict[str, tuple[Choice, ...]] = {}
    specs = cls.form_specs()
    _check_override_names(cls, specs, overrides)
    for name, spec in specs.items():
        if overrides and name in overrides:
            loaded[name] = normalize_choices(await resolve_items(overrides[name]))
        elif spec.dynamic_choices is not None:
            source = spec.dynamic_choices
            if source.needs_session and session is None:
                raise ImproperlyConfigured(
                    f"{cls.__name__}.{name} loads its choices from the database: "
                    "pass session= to from_request(), or choices={...}"
                )
            loaded[name] = normalize_choices(await source.load(session))
    return loaded


def _load_choices_sync(
    cls: type[Form], overrides: Mapping[str, ChoiceSource] | None
) -> dict[str, tuple[Choice, ...]]:
    loaded: dict[str, tuple[Choice, ...]] = {}
    specs = cls.form_specs()
    _check_override_names(cls, specs, overrides)
    for name, spec in specs.items():
        source: Any
        if overrides and name in overrides:
            source = overrides[name]
        elif spec.dynamic_choices is not None and not spec.dynamic_choices.needs_session:
            source = spec.dynamic_choices.source
        elif spec.dynamic_choices is not None:
            raise ImproperlyConfigured(
                f"{cls.__name__}.{name} loads its choices from the database: "
                "use `await form_class.from_request(request, session=...)`"
            )
        else:
            continue
        items = source() if callable(source) else source
        if inspect.isawaitable(items):
            if inspect.iscoroutine(items):
                items.close()  # never awaited: close it so Python does not warn
            raise ImproperlyConfigured(
                f"{cls.__name__}.{name} has async choices: use `await "
                f"{cls.__name__}.from_request(...)` rather than bind()/unbound()"
            )
        loaded[name] = normalize_choices(items)
    return loaded


def _check_override_names(
    cls: type[Form], specs: Mapping[str, FieldSpec], overrides: Mapping[str, Any] | None
) -> None:
    unknown = sorted(set(overrides or ()) - set(specs))
    if unknown:
        raise ImproperlyConfigured(
            f"choices= names unknown field(s) of {cls.__name__}: {', '.join(unknown)}"
        )


__all__ = ["BoundForm", "Form"]
