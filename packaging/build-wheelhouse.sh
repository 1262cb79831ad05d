#!/usr/bin/env bash
# Build a wheelhouse for offline installation (air-gapped ceremony machines): every wheel the app
# needs, for CPython 3.11 on Linux x86_64 (glibc 2.36, Debian 12, or newer), plus the app's own wheel, and a
# requirements.txt pinning each with its SHA-256 hash. Copy the folder to the offline machine and:
#   python3.11 -m venv /opt/smki-desktop
#   /opt/smki-desktop/bin/pip install --no-index --find-links WHEELHOUSE --require-hashes \
#       -r WHEELHOUSE/requirements.txt
# Usage: bash packaging/build-wheelhouse.sh [WHEELHOUSE]   (default: dist/wheelhouse)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/wheelhouse}
say() { printf 'build-wheelhouse: %s\n' "$*" >&2; }
die() { printf 'build-wheelhouse: ERROR: %s\n' "$*" >&2; exit 1; }
py=.venv/bin/python
[[ -x $py ]] || die "no .venv: run bash packaging/setup.sh first"
rm -rf "$out"
mkdir -p "$out"

# glibc 2.17 up to 2.36 (Debian 12): the wheels chosen run on Debian 12 and newer
platforms=()
for minor in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform linux_x86_64)
say "downloading the locked wheels (packaging/requirements.txt) for CPython 3.11, Linux x86_64"
# the hashes of the lock are checked on download; only wheels, never a source build
PIP_CONSTRAINT= "$py" -m pip download -q --disable-pip-version-check --require-hashes \
  --only-binary=:all: --no-deps --python-version 3.11 --implementation cp --abi cp311 \
  "${platforms[@]}" \
  -r packaging/requirements.txt -d "$out" \
  || die "pip could not download the locked wheels (is PyPI reachable?)"

say "building the app's own wheel"
build_opts=()
# setuptools and wheel come with the test tools: build without fetching them again
"$py" -c 'import setuptools, wheel' 2>/dev/null && build_opts=(--no-build-isolation)
"$py" -m pip wheel -q --disable-pip-version-check --no-deps "${build_opts[@]}" -w "$out" . \
  || die "pip could not build the app's wheel"
app_wheel=$(cd "$out" && ls smki_desktop-*.whl)
version=$("$py" -c 'import smki_desktop; print(smki_desktop.__version__)')

# requirements.txt: the lock (its pins and hashes, each checked against the files downloaded
# above by pip) and the app's wheel with the hash of the file just built.
{
  echo "# SMKI Desktop $version: offline install, every file pinned by SHA-256."
  echo "# pip install --no-index --find-links THIS_FOLDER --require-hashes -r requirements.txt"
  grep -v '^#' packaging/requirements.txt | sed '/^\s*$/d'
  echo "smki-desktop==$version \\"
  echo "    --hash=sha256:$(sha256sum "$out/$app_wheel" | cut -d' ' -f1)"
} > "$out/requirements.txt"
(cd "$out" && sha256sum ./*.whl > SHA256SUMS)
say "wheelhouse $out: $(ls "$out"/*.whl | wc -l) wheels, $(du -sm "$out" | cut -f1) MiB, app $app_wheel"
