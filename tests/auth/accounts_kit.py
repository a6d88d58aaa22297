"""What the accounts tests share besides fixtures (tests import it as ``accounts_kit``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from satchel import App
from satchel.auth import Auth, User
from satchel.testing import TestClient

SECRET = "accounts-test-secret-key-0123456789abcdef"
PASSWORD = "violet kettle drums at noon"  # passes the default rules
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}

MakeApp = Callable[..., tuple[App, Auth]]
AddUser = Callable[..., User]

_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def login(client: TestClient, username: str, password: str, **extra: Any) -> httpx.Response:
    """POST the login form and return the answer (redirects not followed)."""
    data = {"username": username, "password": password, **extra}
    return client.post("/login", data=data, headers=HTML, follow_redirects=False)


def page(response: httpx.Response) -> str:
    """Return the page with its one-time CSRF token blanked out (it differs every render)."""
    return _CSRF.sub('name="csrf_token" value=""', response.text)


def csrf_from(text: str) -> str:
    """Return the CSRF token of the first form in ``text``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)
