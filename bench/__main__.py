"""Run every benchmark: `python -m bench [NAME ...]` (names: the `bench_*.py` modules without
the prefix). Each module defines `run(quick: bool) -> list[Figure]`; `--quick` shrinks sizes."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from pathlib import Path

from bench.common import Figure, machine_summary


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("names", nargs="*")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--json", default=None, help="also write all figures to this file")
    args = p.parse_args()
    here = Path(__file__).parent
    mods = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.names:
        mods = [m for m in mods if m.removeprefix("bench_") in args.names]
    # measure the app as installed: its modules compiled to bytecode, as packaging/setup.sh and
    # pip leave them (with PYTHONDONTWRITEBYTECODE set, each process would compile every module)
    import compileall

    compileall.compile_dir(str(here.parent / "smki_desktop"), quiet=1)
    print(f"machine: {machine_summary()}")
    all_figures: list[dict[str, object]] = []
    failed = 0
    for name in mods:
        mod = importlib.import_module(f"bench.{name}")
        print(f"\n== {name.removeprefix('bench_')} ==", flush=True)
        t = time.perf_counter()
        try:
            figures: list[Figure] = mod.run(quick=args.quick)
        except Exception as exc:
            failed += 1
            print(f"  FAILED: {type(exc).__name__}: {exc}")
            continue
        for f in figures:
            print("  " + f.line())
            all_figures.append({"bench": name, **f.as_dict()})
        print(f"  ({time.perf_counter() - t:.1f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_summary(),
                                               "python": platform.python_version(),
                                               "figures": all_figures}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
