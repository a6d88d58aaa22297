"""Satchel's pytest plugin, loaded through the ``pytest11`` entry point.

It adds fixtures that need no app of their own:

``satchel_client_factory``
    ``satchel_client_factory(app, **options)`` returns a
    :class:`~satchel.testing.TestClient` (options as for ``TestClient``) that is
    closed when the test ends. Pass ``lifespan=True`` to run the app's lifespan
    startup now and its shutdown at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from satchel.testing.client import TestClient
from satchel.types import ASGIApp


class ClientFactory(Protocol):
    """The callable that ``satchel_client_factory`` provides."""

    def __call__(self, app: ASGIApp, *, lifespan: bool = False, **options: Any) -> TestClient:
        """Return a ``TestClient`` for ``app``, closed at teardown."""


@pytest.fixture
def satchel_client_factory() -> Iterator[ClientFactory]:
    """Make ``TestClient`` instances that are closed when the test ends."""
    made: list[tuple[TestClient, bool]] = []

    def factory(app: ASGIApp, *, lifespan: bool = False, **options: Any) -> TestClient:
        client = TestClient(app, **options)
        if lifespan:
            client.__enter__()
        made.append((client, lifespan))
        return client

    yield factory
    for client, entered in reversed(made):
        if entered:
            client.__exit__(None, None, None)
        else:
            client.close()
