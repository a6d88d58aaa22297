#!/usr/bin/env python3
"""Development entry point: ``python3 dev.py run`` or ``python3 dev.py test``.

Needs only Python 3.11+. The first run creates ``.venv/`` and installs Satchel in
editable mode with its development extras; later runs reinstall only when
``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXTRAS = "dev,postgres,mysql,redis,brotli,bench"
EXAMPLE = "examples/hello/app.py"

USAGE = """usage: python3 dev.py COMMAND [ARGS...]

commands:
  run [ARGS]     serve the example app ({example}) with `satchel run`
  test [ARGS]    run the test suite (ARGS go to pytest)
  check          ruff (lint + format check) and mypy --strict
  bench [ARGS]   run the benchmark (bench/run.py)
"""


def ensure_venv() -> None:
    """Create the virtual environment and install the project when needed."""
    if sys.version_info < (3, 11):
        sys.exit("Satchel needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".satchel-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing satchel[{EXTRAS}] into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f".[{EXTRAS}]"], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    """Run the command named in ``argv``."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE.format(example=EXAMPLE))
        return 0
    command, args = argv[0], argv[1:]
    ensure_venv()
    python = str(BIN / "python")
    if command == "run":
        return subprocess.call([str(BIN / "satchel"), "run", EXAMPLE, *args], cwd=ROOT)
    if command == "test":
        code = subprocess.call([python, "-m", "pytest", *args], cwd=ROOT)
        # pytest exits 5 when nothing was collected (e.g. a filter matched no test).
        return 0 if code == 5 and args else code
    if command == "check":
        steps = [
            [python, "-m", "ruff", "check", "src", "tests", "bench", "examples", "dev.py"],
            [python, "-m", "ruff", "format", "--check", "src", "tests", "bench", "examples"],
            [python, "-m", "mypy"],
        ]
        return max(subprocess.call(step, cwd=ROOT) for step in steps)
    if command == "bench":
        return subprocess.call([python, "bench/run.py", *args], cwd=ROOT)
    print(f"dev.py: unknown command {command!r}\n")
    print(USAGE.format(example=EXAMPLE))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
