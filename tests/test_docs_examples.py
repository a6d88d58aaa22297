"""Run the examples in docs/*.md so the documentation cannot drift from the code.

Convention: a fenced block that opens with ```python and contains ``TestClient(``
(or ``AsyncTestClient(``) is a runnable example. It is executed on its own, in a
fresh module, and must contain at least one ``assert`` so that it can fail. Other
code blocks (```sh, ```python fragments without a test client) are not run.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _examples() -> list[tuple[str, int, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            code = match.group(1)
            if "TestClient(" not in code:
                continue
            line = text.count("\n", 0, match.start()) + 2  # first line of code
            found.append((page.name, line, code))
    return found


EXAMPLES = _examples()

#: Examples that show documented behaviour the code gets wrong today, keyed by
#: (page, a string unique to the example). Strict: once the bug is fixed the
#: example passes, the xfail fails, and this entry must go.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _known_bug(page: str, code: str) -> str | None:
    return next((why for (p, text), why in KNOWN_BUGS.items() if p == page and text in code), None)


def test_docs_have_runnable_examples() -> None:
    pages = {name for name, _, _ in EXAMPLES}
    for expected in ("quickstart.md", "routing.md", "requests.md", "responses.md", "handlers.md"):
        assert expected in pages, f"docs/{expected} has no runnable example"


@pytest.mark.parametrize(
    ("page", "line", "code"),
    EXAMPLES,
    ids=[f"{name}:{line}" for name, line, _ in EXAMPLES],
)
def test_doc_example(  # type: ignore[no-untyped-def]
    page: str, line: int, code: str, tmp_path: Path, monkeypatch, request
) -> None:
    bug = _known_bug(page, code)
    if bug is not None:
        request.applymarker(pytest.mark.xfail(reason=f"known bug: {bug}", strict=True))
    assert re.search(r"^\s*assert\b", code, re.MULTILINE), (
        f"docs/{page}:{line}: a runnable example must assert something"
    )
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.delenv("SATCHEL_DEBUG", raising=False)
    name = f"docs_example_{Path(page).stem}_{line}"
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.py")
    sys.modules[name] = module  # pydantic and dataclasses look classes' modules up here
    try:
        # Padded so that tracebacks point at the line in the Markdown file.
        compiled = compile("\n" * (line - 1) + code, f"docs/{page}", "exec")
        exec(compiled, module.__dict__)
    finally:
        sys.modules.pop(name, None)


def _anchor(heading: str) -> str:
    # GitHub's rule: lower-case, drop punctuation except '-' and '_', spaces to '-'.
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_docs_links_resolve() -> None:
    pages = {page.name: page.read_text(encoding="utf-8") for page in DOCS.glob("*.md")}
    anchors = {
        name: {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
        for name, text in pages.items()
    }
    broken = []
    for name, text in pages.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in target:
                continue
            page, _, anchor = target.partition("#")
            page = page or name
            if page not in pages or (anchor and anchor not in anchors[page]):
                broken.append(f"{name}: {target}")
    assert not broken, broken
