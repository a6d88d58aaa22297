"""Flash messages: a note for the visitor's next page ("Saved!"), shown once.

Messages wait in the session under a private key until something reads them;
reading removes them, so a reload does not show them again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    from satchel.http.request import Request

#: The session key the messages wait under.
FLASH_KEY = "_flashes"


def flash(request: Request, message: str, category: str = "info") -> None:
    """Queue ``message`` for the next page that shows messages.

    ``category`` is free text; ``"debug"``, ``"info"``, ``"success"``,
    ``"warning"`` and ``"error"`` are the usual ones (templates often use it as a
    CSS class). The message is stored as plain text and escaped when rendered.
    """
    session = request.session
    queued = session.get(FLASH_KEY)
    messages = list(queued) if isinstance(queued, list) else []
    messages.append([str(category), str(message)])
    session[FLASH_KEY] = messages


@overload
def get_flashed_messages(
    request: Request,
    with_categories: Literal[True] = ...,
    category_filter: Collection[str] = (),
) -> list[tuple[str, str]]: ...
@overload
def get_flashed_messages(
    request: Request,
    with_categories: Literal[False],
    category_filter: Collection[str] = (),
) -> list[str]: ...
@overload
def get_flashed_messages(
    request: Request,
    with_categories: bool,
    category_filter: Collection[str] = (),
) -> list[tuple[str, str]] | list[str]: ...
def get_flashed_messages(
    request: Request,
    with_categories: bool = True,
    category_filter: Collection[str] = (),
) -> list[tuple[str, str]] | list[str]:
    """Return the queued messages as ``(category, message)`` pairs and remove them.

    Within one request every call returns the same messages (a layout and a page
    may both ask); the next request sees none. ``category_filter`` keeps only those
    categories; ``with_categories=False`` returns the messages alone.
    """
    session = request.session
    messages = session._flashes
    if messages is None:
        messages = session._flashes = _valid(session.get(FLASH_KEY))
        if FLASH_KEY in session.data:
            del session[FLASH_KEY]
    if category_filter:
        messages = [item for item in messages if item[0] in category_filter]
    if with_categories:
        return list(messages)
    return [message for _, message in messages]


def _valid(queued: Any) -> list[tuple[str, str]]:
    # The session is signed or server-side, but its shape is still checked: a
    # handler may have stored something else under the key.
    if not isinstance(queued, list):
        return []
    return [
        (item[0], item[1])
        for item in queued
        if isinstance(item, list | tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    ]


__all__ = ["FLASH_KEY", "flash", "get_flashed_messages"]
