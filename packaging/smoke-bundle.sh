#!/usr/bin/env bash
# Run a built bundle the way a user would, from a folder outside the source tree, in a private
# D-Bus session with an unlocked gnome-keyring and a fresh data folder:
#   smki --version; a key, an Organisation CSR checked by `openssl req -verify` and by `smki lint`;
#   a PDF laid out by the bundle's child-process entry; the Test simulator started and stopped
#   (a child process of the bundle); the main window opened offscreen and closed.
# Usage: bash packaging/smoke-bundle.sh BUNDLE_DIR [EXPECTED_VERSION]
set -euo pipefail
bundle=$(cd "$1" && pwd)
expected=${2:-}
say() { printf 'smoke-bundle: %s\n' "$*" >&2; }
die() { printf 'smoke-bundle: FAILED: %s\n' "$*" >&2; exit 1; }
[[ -x $bundle/smki && -x $bundle/smki-desktop ]] || die "no smki / smki-desktop in $bundle"

if [[ -z ${SMKI_SMOKE_IN_SESSION:-} ]]; then
  home=$(mktemp -d /tmp/smki-smoke.XXXXXX)
  trap 'rm -rf "$home"' EXIT
  mkdir -m 700 "$home/run"
  # a private session bus; the keyring daemon is started inside it (below)
  env -u PYTHONPATH -u VIRTUAL_ENV HOME="$home" XDG_RUNTIME_DIR="$home/run" \
    XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
    SMKI_SMOKE_IN_SESSION=1 SMKI_SMOKE_HOME="$home" \
    dbus-run-session -- bash "$0" "$bundle" "$expected"
  exit $?
fi

home=$SMKI_SMOKE_HOME
cd "$home"  # outside the source tree: nothing can come from a checkout
printf 'smoke-keyring' | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >/dev/null 2>&1 &
keyring_pid=$!
trap 'kill $keyring_pid 2>/dev/null || true' EXIT
sleep 1
data=$home/smki-data
smki=("$bundle/smki" --data-dir "$data")

version=$("$bundle/smki" --version)
say "$version"
[[ $version == "smki "* ]] || die "smki --version printed: $version"
[[ -z $expected || $version == "smki $expected" ]] || die "bundle is $version, expected $expected"

"${smki[@]}" party set --name "Smoke Energy Ltd" --party-id SMOKE1 --party-type import-supplier \
  --eui-range 90B3D51F30010000..90B3D51F3001FFFF >/dev/null || die "party set"
key=$("${smki[@]}" key generate --usage signing --label smoke --json \
  | sed -n 's/.*"key_id": "\([0-9a-f]*\)".*/\1/p')
[[ -n $key ]] || die "key generate gave no key id"
"${smki[@]}" csr org --key "$key" --role supplier --eui 90B3D51F30010000 --cn SMOKE1 \
  --out "$home/org.pem" >/dev/null || die "csr org"
openssl req -in "$home/org.pem" -noout -verify 2>&1 | grep -q "verify OK" \
  || die "openssl does not verify the CSR's signature"
"${smki[@]}" lint "$home/org.pem" | grep -q ": ok (organisation CSR)" || die "smki lint"
say "key, Organisation CSR (openssl verify OK), lint OK"

# split backup: the SLIP-39 word list is a data file the bundle must carry
"${smki[@]}" key backup "$key" --shares 2-of-3 --out "$home/backup" >/dev/null 2>&1 \
  || die "key backup --shares (SLIP-39 in the bundle)"
[[ $(ls "$home/backup" | grep -c share) -eq 3 ]] || die "key backup wrote no 3 share files"
say "key backed up as 2-of-3 SLIP-39 shares"

printf '{"body_html": "<h1>Smoke</h1>", "env": "test", "title": "Smoke", "reference": "S-1"}' \
  | QT_QPA_PLATFORM=offscreen "$bundle/smki" --smki-run-module smki_desktop.render.isolated \
  > "$home/smoke.pdf" || die "PDF child entry"
[[ $(head -c 4 "$home/smoke.pdf") == "%PDF" ]] || die "PDF child entry wrote no PDF"
say "PDF laid out by the bundle's child entry ($(stat -c %s "$home/smoke.pdf") bytes)"

"${smki[@]}" simulator start >/dev/null || die "simulator start (a child of the bundle)"
"${smki[@]}" simulator status | grep -qi "running" || die "simulator status: not running"
"${smki[@]}" simulator stop >/dev/null || die "simulator stop"
say "Test simulator started from the bundle and stopped"

start=$(date +%s%N)
QT_QPA_PLATFORM=offscreen timeout 60 "$bundle/smki-desktop" --data-dir "$data" --env test \
  --no-first-run --quit-after-idle || die "the main window did not open and close (exit $?)"
say "main window opened offscreen and closed in $(( ($(date +%s%N) - start) / 1000000 )) ms"
"${smki[@]}" audit verify >/dev/null || die "audit verify"
say "all checks passed"
