#!/usr/bin/env bash
# Build the one-folder bundle (both `smki-desktop` and `smki`) with PyInstaller.
# Usage: bash packaging/build-bundle.sh [DIST]     (default DIST: dist/; the bundle is DIST/smki-desktop)
# Needs the app's venv (bash packaging/setup.sh). Installs what the build needs: binutils (objdump,
# used by PyInstaller to read shared libraries) via apt, and PyInstaller into the venv from the
# lock file packaging/requirements-bundle.txt (with hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:-dist}
say() { printf 'build-bundle: %s\n' "$*" >&2; }
die() { printf 'build-bundle: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x .venv/bin/python ]] || die "no .venv: run bash packaging/setup.sh first"
if ! command -v objdump >/dev/null; then
  command -v apt-get >/dev/null || die "objdump (binutils) is missing and this is not Debian/Ubuntu"
  sudo=""; [[ $(id -u) != 0 ]] && sudo=sudo
  say "installing binutils"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || die "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends binutils >/dev/null \
    || die "apt-get could not install binutils"
fi
if ! .venv/bin/python -c 'import PyInstaller' 2>/dev/null; then
  say "installing PyInstaller into .venv (locked, with hashes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r packaging/requirements-bundle.txt || die "pip could not install PyInstaller"
fi

work=build/pyinstaller
start=$(date +%s)
say "building into $dist/smki-desktop"
.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" packaging/smki-desktop.spec
secs=$(( $(date +%s) - start ))
size=$(du -sm "$dist/smki-desktop" | cut -f1)
say "built $dist/smki-desktop in ${secs} s, ${size} MiB ($("$dist/smki-desktop/smki" --version))"
