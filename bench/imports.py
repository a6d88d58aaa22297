"""Time `python -c "import X"` for Satchel and its peers (median of N fresh processes).

    .venv/bin/python bench/imports.py [--runs 30] [--quick]

Each run is a fresh interpreter; runs are interleaved across modules so background load
hits all of them alike. The baseline (`python -c pass`) is subtracted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

MODULES = [
    "satchel",
    "flask",
    "starlette.applications",
    "falcon",
    "fastapi",
    "django.core.handlers.wsgi",
]


def once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 runs: checks the script works")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    available = []
    for name in MODULES:
        try:
            once(f"import {name}")
            available.append(name)
        except subprocess.CalledProcessError:
            print(f"skipping {name}: not importable", file=sys.stderr)
    timings: dict[str, list[float]] = {name: [] for name in ["(baseline)", *available]}
    for _ in range(runs):
        timings["(baseline)"].append(once("pass"))
        for name in available:
            timings[name].append(once(f"import {name}"))
    base = statistics.median(timings["(baseline)"])
    print(
        f"\nimport time, median of {runs} fresh processes, baseline {base * 1000:.1f} ms subtracted\n"
    )
    print("| module | ms |")
    print("|---|---:|")
    for name in available:
        print(f"| `{name}` | {(statistics.median(timings[name]) - base) * 1000:.1f} |")
    satchel = statistics.median(timings.get("satchel", [0.0]))
    flask = statistics.median(timings.get("flask", [0.0]))
    if "satchel" in available and "flask" in available:
        verdict = "faster" if satchel < flask else "SLOWER"
        print(
            f"\n`import satchel` is {verdict} than `import flask` ({(satchel - base) * 1000:.1f} vs {(flask - base) * 1000:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
