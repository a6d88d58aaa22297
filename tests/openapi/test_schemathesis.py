"""Property-based tests of examples/api through its ASGI interface (no network).

schemathesis reads the app's own /openapi.json, generates requests from it (valid
and invalid) and checks every answer: no 5xx, a documented status, a documented
content type, and a body that matches the declared schema.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "app.py"


def _load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("satchel_example_api", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


example = _load_example()
schema = schemathesis.openapi.from_asgi("/openapi.json", example.app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_example_api_conforms_to_its_schema(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate()


def test_the_check_catches_a_handler_that_breaks_its_schema() -> None:
    # The test above could pass vacuously; here the same machinery must fail.
    from hypothesis import given

    from satchel import App

    broken = App(debug=True)

    @broken.get("/count", response_model=None)
    async def count() -> dict[str, int]:
        return {"n": "not an int"}  # type: ignore[dict-item]

    operation = schemathesis.openapi.from_asgi("/openapi.json", broken)["/count"]["GET"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate()

    from schemathesis.openapi.checks import JsonSchemaError

    with pytest.raises(BaseExceptionGroup) as caught:
        run()
    assert caught.group_contains(JsonSchemaError)
