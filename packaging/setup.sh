#!/usr/bin/env bash
# Set up SMKI Desktop on Debian/Ubuntu: the system packages Qt, the Secret Service and the tests
# need, then a virtual environment in .venv with the app (and, with --test, the test tools).
# Usage: bash packaging/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[[ ${1:-} == --test ]] && want_tests=1

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Qt (offscreen and on a real X display), fonts, the Secret Service on a D-Bus session.
app_pkgs=(python3-venv libglib2.0-0 libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0
  libfontconfig1 libfreetype6 fontconfig fonts-dejavu-core libdbus-1-3 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0
  libxcb-xinerama0 gnome-keyring dbus-x11 openssl)
# The tests' real peers: SoftHSM2 (PKCS#11), OpenSSL, poppler (PDF text), Xvfb for screenshots;
# the validators of the desktop entry and the AppStream metadata.
test_pkgs=(softhsm2 poppler-utils xvfb xauth sqlite3 procps desktop-file-utils appstream)
# PostgreSQL 15 for the team store tests: they run their own server from
# /usr/lib/postgresql/15/bin in a temporary folder on a free port, so the package's own cluster
# (started or not by the package's scripts) is never used.
test_pkgs+=(postgresql)
# iproute2 (`ip`): a test cuts a team store's network off inside a network namespace of its own
test_pkgs+=(iproute2)
# Node runs the DCC's own SMKI Repository client against the simulator (issue 17); Debian's
# nodejs/npm only where no node/npm is on the machine already.
if ((want_tests)) && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
  test_pkgs+=(nodejs npm)
fi
pkgs=("${app_pkgs[@]}")
((want_tests)) && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    die "these system packages are missing and this is not a Debian/Ubuntu system: ${missing[*]}"
  fi
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "run as root (or install sudo) to install: ${missing[*]}"
    sudo=sudo
  fi
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || die "apt-get update failed (is a package mirror reachable?)"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get could not install: ${missing[*]}"
fi

py=""
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    py=$cand; break
  fi
done
[[ -n $py ]] || die "Python 3.11 or newer is needed (found: $(python3 --version 2>&1 || echo none))"

if [[ ! -x .venv/bin/python ]]; then
  say "creating the virtual environment .venv with $($py --version)"
  "$py" -m venv .venv || die "could not create a virtual environment (install python3-venv)"
fi
lock=packaging/requirements.txt
((want_tests)) && lock=packaging/requirements-test.txt
say "installing the locked dependencies ($lock, checked against their hashes) into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock" \
  || die "pip could not install the locked dependencies from $lock (is PyPI reachable? a hash \
mismatch means a downloaded file is not the one locked: do not work around it)"
# The app itself, editable (the tests run this tree), without resolving anything again. In
# setuptools' "compat" mode the tree is a plain path in a .pth file: the default mode installs
# an import hook that every Python start in .venv loaded first, ~13 ms of each `smki` command
# here (issue 15), which a wheel or the bundle never pays. setuptools calls that mode
# transitional: where it is gone, the default mode is used.
say "installing SMKI Desktop into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
  --config-settings editable_mode=compat -e . >/dev/null 2>&1 \
  || .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . \
  || die "pip could not install SMKI Desktop itself"
# An editable install leaves our modules as source; compile them once, as pip does for a normal
# install, so that no start pays for it (where PYTHONDONTWRITEBYTECODE is set, every start did).
.venv/bin/python -m compileall -q smki_desktop >/dev/null || say "could not precompile (harmless)"
if ((want_tests)); then
  # The DCC's open-source repository client, pinned, in a folder the tests own (git-ignored).
  dcc_client="@smartdcc/dccboxed-keystore@0.4.2"
  if [[ ! -d tests/.npm/node_modules/@smartdcc/dccboxed-keystore ]]; then
    say "installing the DCC's repository client $dcc_client into tests/.npm"
    mkdir -p tests/.npm
    npm install --prefix tests/.npm --no-audit --no-fund --save-exact --loglevel=error \
      "$dcc_client" >/dev/null || die "npm could not install $dcc_client (is the npm registry reachable?)"
  fi
fi
say "ready"
