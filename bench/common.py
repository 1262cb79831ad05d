"""Shared benchmark helpers: figures with their baseline and target, timing, peak memory."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""          # e.g. "ratio <= 2.0"
    ok: bool | None = None    # target met?

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]

    def line(self) -> str:
        s = f"{self.name}: {self.value:,.3f} {self.unit}"
        if self.baseline is not None:
            s += f" | baseline ({self.baseline_name}) {self.baseline:,.3f} {self.unit}"
            if self.ratio is not None:
                s += f" | ratio {self.ratio:.2f}"
        if self.target:
            verdict = "" if self.ok is None else (" MET" if self.ok else " NOT MET")
            s += f" | target {self.target}{verdict}"
        return s

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "value": self.value, "unit": self.unit,
                "baseline": self.baseline, "baseline_name": self.baseline_name,
                "ratio": self.ratio, "target": self.target, "ok": self.ok}


def machine_summary() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {sys.platform}"


def best_of(n: int, fn: Callable[[], object]) -> float:
    """Best wall time of n runs, seconds."""
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a process; return (wall seconds, peak RSS in MB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(after, before) // 1024
