#!/usr/bin/env bash
# Dependency audit: check every locked dependency (runtime, test, bundle tools) for known
# vulnerabilities with pip-audit. Where no vulnerability service is reachable it says so and
# exits 0 — and never reports "no known vulnerabilities" for what it could not look up.
# Exit 1 when vulnerabilities are found (0 with --report-only, as CI runs it).
# Usage: bash packaging/audit-deps.sh [--report-only]
set -euo pipefail
cd "$(dirname "$0")/.."
tools=build/tools-venv
py=python3.11; command -v $py >/dev/null || py=python3
if [[ ! -x $tools/bin/pip-audit ]]; then
  printf 'audit-deps: installing pip-audit into %s\n' "$tools" >&2
  [[ -x $tools/bin/python ]] || $py -m venv "$tools"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check "pip-audit>=2.7,<3" \
    || { printf 'audit-deps: NOT CHECKED: pip-audit could not be installed\n'; exit 0; }
fi
exec "$tools/bin/python" packaging/audit_deps.py "$tools/bin/pip-audit" "$@" \
  packaging/requirements.txt packaging/requirements-test.txt packaging/requirements-bundle.txt
