"""Audit the locked dependencies for known vulnerabilities with pip-audit, and say plainly what
could and could not be checked.

pip-audit prints "No known vulnerabilities found" even when it could look up none of the packages
(every one skipped because the vulnerability service was unreachable). This wrapper reads its JSON
report instead and tells three cases apart:
  - vulnerabilities found: each package, version, ID and fixed versions; exit 1 (0 with
    --report-only);
  - nothing could be checked (no vulnerability service reachable): says so, names the services
    tried, and exits 0: an offline machine is not a failure, but it is not a clean result either;
  - checked: "no known vulnerabilities" only for the packages that were actually looked up, and
    any package that was not is listed as not checked.
Usage: python packaging/audit_deps.py PIP_AUDIT [--report-only] LOCKFILE...
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

SERVICES = ("pypi", "osv")  # pip-audit's vulnerability services, tried in this order


@dataclass
class Outcome:
    checked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    vulns: list[str] = field(default_factory=list)


def read_report(report: dict[str, Any]) -> Outcome:
    """What a pip-audit JSON report (`-f json`) says was checked, skipped and found."""
    out = Outcome()
    for dep in report.get("dependencies", []):
        name = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            out.skipped.append(name)
            continue
        out.checked.append(name)
        for v in dep.get("vulns", []):
            fixed = ", ".join(v.get("fix_versions") or []) or "no fixed version"
            out.vulns.append(f"{name}: {v.get('id')} (fixed in: {fixed})")
    return out


def summarise(lock: str, service: str | None, out: Outcome,
              *, report_only: bool) -> tuple[list[str], int]:
    """The lines to print for one lock file and the exit status they mean."""
    total = len(out.checked) + len(out.skipped)
    if service is None or not out.checked:
        return ([f"{lock}: NOT CHECKED: no vulnerability service could be reached "
                 f"(tried: {', '.join(SERVICES)}); none of the {total} locked packages was "
                 "looked up. This is not a clean result: run this again on a machine that can "
                 "reach PyPI's JSON API or OSV."], 0)
    lines = []
    if out.vulns:
        lines.append(f"{lock}: {len(out.vulns)} KNOWN VULNERABILITIES "
                     f"(checked {len(out.checked)} of {total} packages with {service}):")
        lines += [f"  {v}" for v in out.vulns]
    else:
        lines.append(f"{lock}: no known vulnerabilities in the {len(out.checked)} packages "
                     f"checked with {service}")
    if out.skipped:
        lines.append(f"  NOT CHECKED ({len(out.skipped)}): {', '.join(out.skipped)}")
    return lines, (1 if out.vulns and not report_only else 0)


def audit(pip_audit: str, lock: str) -> tuple[str | None, Outcome]:
    """Run pip-audit on a fully pinned, hashed lock file, service by service, until one could
    look packages up. (None, ...) when none could."""
    last = Outcome()
    for service in SERVICES:
        done = subprocess.run(
            [pip_audit, "-r", lock, "--require-hashes", "--disable-pip", "--no-deps",
             "-s", service, "-f", "json", "--progress-spinner", "off", "--timeout", "10"],
            capture_output=True, text=True, check=False)
        try:
            report = json.loads(done.stdout)
        except ValueError:
            continue  # pip-audit failed outright (e.g. the service refused the connection)
        last = read_report(report)
        if last.checked:
            return service, last
    return None, last


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    pip_audit, rest = argv[0], argv[1:]
    report_only = "--report-only" in rest
    locks = [a for a in rest if a != "--report-only"]
    status = 0
    for lock in locks:
        service, outcome = audit(pip_audit, lock)
        lines, code = summarise(lock, service, outcome, report_only=report_only)
        print("\n".join(f"audit-deps: {ln}" for ln in lines), flush=True)
        status = max(status, code)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
