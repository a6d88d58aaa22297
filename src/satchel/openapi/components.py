"""JSON Schemas for Python types, with shared ``components.schemas``.

Every type the document mentions is added to one :class:`SchemaRegistry`, which
hands back an empty dict to put in the document. :meth:`SchemaRegistry.build`
then runs pydantic's JSON Schema generator once over all of them, fills each
dict in place and returns the component definitions: one component per model
(no duplicates), named by pydantic (the class name; ``-Input``/``-Output`` when
a model reads and writes differently; the module path when two models share a
name), referenced as ``#/components/schemas/{name}``.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

REF_TEMPLATE = "#/components/schemas/{model}"


class _Generator(GenerateJsonSchema):
    """pydantic's generator, leaving out what JSON Schema cannot express instead of failing."""

    def handle_invalid_for_json_schema(
        self, schema: core_schema.CoreSchema, error_info: str
    ) -> JsonSchemaValue:
        return {}


class SchemaRegistry:
    """Collect types, then generate all their schemas in one pass."""

    def __init__(self) -> None:
        self._inputs: list[tuple[int, JsonSchemaMode, Any]] = []
        self._slots: dict[tuple[int, JsonSchemaMode], dict[str, Any]] = {}
        self._adapters: dict[Any, Any] = {}
        self._counter = 0

    def schema_for(
        self, annotation: Any, mode: JsonSchemaMode = "validation", **constraints: Any
    ) -> dict[str, Any]:
        """Return a dict that will hold ``annotation``'s schema after :meth:`build`."""
        slot: dict[str, Any] = {}
        if constraints:
            annotation = Annotated[annotation, Field(**constraints)]
        adapter = self._adapter(annotation)
        if adapter is None:
            return slot  # not a type pydantic knows: any value
        self._counter += 1
        self._inputs.append((self._counter, mode, adapter.core_schema))
        self._slots[(self._counter, mode)] = slot
        return slot

    def _adapter(self, annotation: Any) -> Any:
        try:
            cached = self._adapters.get(annotation)
        except TypeError:  # an unhashable annotation: build it every time
            cached = None
        if cached is not None:
            return cached
        try:
            adapter = TypeAdapter(annotation)
        except Exception:
            return None
        with contextlib.suppress(TypeError):  # unhashable annotations are not cached
            self._adapters[annotation] = adapter
        return adapter

    def build(self) -> dict[str, Any]:
        """Fill every slot and return the component schemas, sorted by name."""
        if not self._inputs:
            return {}
        generator = _Generator(by_alias=True, ref_template=REF_TEMPLATE)
        schemas, definitions = generator.generate_definitions(self._inputs)
        for key, slot in self._slots.items():
            slot.update(schemas[key])
        return dict(sorted(definitions.items()))


__all__ = ["REF_TEMPLATE", "SchemaRegistry"]
