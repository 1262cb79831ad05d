#!/usr/bin/env bash
# Prove that a wheelhouse installs with no network: a fresh venv, pip with no index (and a dead
# index address, and no network namespace where `unshare` can make one), every file checked
# against its hash; then the installed `smki` runs from outside the source tree.
# Usage: bash packaging/check-offline-install.sh WHEELHOUSE
set -euo pipefail
wh=$(cd "$1" && pwd)
say() { printf 'offline-install: %s\n' "$*" >&2; }
die() { printf 'offline-install: FAILED: %s\n' "$*" >&2; exit 1; }
[[ -f $wh/requirements.txt ]] || die "$wh has no requirements.txt (build it with build-wheelhouse.sh)"
py=python3.11; command -v $py >/dev/null || py=python3
tmp=$(mktemp -d /tmp/smki-offline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
# no pip configuration of this machine (its extra indexes or local wheel folders) may help
blocked=(env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null
  PIP_INDEX_URL=http://127.0.0.1:9/ PIP_NO_CACHE_DIR=1)
how="pip --no-index, index address dead"
if unshare --net true 2>/dev/null; then  # root
  blocked=(unshare --net "${blocked[@]}")
  how="$how, in a network namespace with no network"
elif unshare --map-root-user --net true 2>/dev/null; then  # a user with user namespaces
  blocked=(unshare --map-root-user --net "${blocked[@]}")
  how="$how, in a network namespace with no network"
fi
start=$(date +%s)
(cd "$tmp" && "${blocked[@]}" "$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check \
  --no-index --find-links "$wh" --require-hashes -r "$wh/requirements.txt") \
  || die "the wheelhouse did not install offline"
say "installed offline ($how) in $(( $(date +%s) - start )) s"
cd "$tmp"
version=$("$tmp/venv/bin/smki" --version) || die "smki --version"
"$tmp/venv/bin/smki" --data-dir "$tmp/data" lint --help >/dev/null || die "smki lint --help"
"$tmp/venv/bin/python" -c 'import smki_desktop.gui.main_window' || die "the GUI modules import"
say "$version runs from the offline install"
