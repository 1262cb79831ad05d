#!/usr/bin/env bash
# Re-create the lock files (exact versions with SHA-256 hashes) from pyproject.toml:
#   packaging/requirements.txt        the runtime dependencies
#   packaging/requirements-test.txt   runtime + the `test` extra (what setup.sh --test installs)
#   packaging/requirements-bundle.txt PyInstaller, for build-bundle.sh
# Re-run it after changing dependencies in pyproject.toml (e.g. after a merge), then commit the
# three files. Only versions for CPython 3.11 on Linux x86_64 are resolved (the supported platform);
# the hashes cover every wheel and sdist PyPI publishes for each pinned version.
# Usage: bash packaging/lock.sh [--upgrade]
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'lock: %s\n' "$*" >&2; }
tools=build/tools-venv
py=python3.11; command -v $py >/dev/null || py=python3
if [[ ! -x $tools/bin/pip-compile ]]; then
  say "installing pip-tools into $tools"
  $py -m venv "$tools"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check "pip-tools>=7.4,<8"
fi
# Machine-wide pip constraints would leak into the lock; the lock is made from pyproject alone.
export PIP_CONSTRAINT=
upgrade=(); [[ ${1:-} == --upgrade ]] && upgrade=(--upgrade)
compile() {
  "$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links "${upgrade[@]}" --resolver=backtracking "$@"
}
say "runtime -> packaging/requirements.txt"
compile -o packaging/requirements.txt pyproject.toml
say "runtime + test -> packaging/requirements-test.txt"
compile --extra test -o packaging/requirements-test.txt pyproject.toml
say "bundle tools -> packaging/requirements-bundle.txt"
compile -o packaging/requirements-bundle.txt packaging/requirements-bundle.in
# pip-compile writes the command line into the header; keep it stable across machines.
sed -i 's|^#    pip-compile .*|#    bash packaging/lock.sh|' packaging/requirements*.txt
say "done: $(grep -c '==' packaging/requirements-test.txt) pinned packages for the test install"
