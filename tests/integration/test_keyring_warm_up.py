"""`keystores.secrets.warm_up` (issue 15): `smki adt sign` and `verify` open the process's
Secret Service connection and session on a helper thread while they import, reading nothing;
the first read then costs its two round trips only. Where the Secret Service would not be
spoken to directly, nothing is opened, and a failure to open is left to the first real call,
which reports it as before. Real gnome-keyring on a private session bus."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import sys\n"
    "from smki_desktop.core.environment import Environment\n"
    "from smki_desktop.keystores import secret_service\n"
    "from smki_desktop.keystores.secrets import OsSecrets, warm_up\n"
    "t = warm_up() if sys.argv[1] == 'warm' else None\n"
    "print(t is not None and t.daemon)\n"
    "t is not None and t.join(30)\n"
    "conn = secret_service._conn\n"
    "print(conn is not None and conn.session is not None)\n"
    "if conn is not None:\n"
    "    sent = []\n"
    "    real = conn.connection.send_and_get_reply\n"
    "    def counting(msg, *a, **k):\n"
    "        sent.append(1); return real(msg, *a, **k)\n"
    "    conn.connection.send_and_get_reply = counting\n"
    "s = OsSecrets(Environment.TEST)\n"
    "try:\n"
    "    print(s.get_optional('probe-warm-up-none'))\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__)\n"
    "print(len(sent) if conn is not None else '-')\n")


def _run(env: dict[str, str], how: str = "warm") -> list[str]:
    r = subprocess.run([sys.executable, "-c", PROBE, how], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_warm_up_opens_the_connection_and_session_and_reads_nothing() -> None:
    # the read after it: SearchItems and the collection's lock state (no item), nothing more
    # (no connection, availability check or session opened on the way)
    assert _run(dict(os.environ)) == ["True", "True", "None", "2"]


def test_warm_up_opens_nothing_where_keyring_decides() -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert _run(env) == ["False", "False", "KeyringUnavailable", "-"]


def test_a_failed_warm_up_keeps_nothing_and_the_read_reports_as_before() -> None:
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}
    out = _run(env)
    assert out[:2] == ["True", "False"] and out[3] == "-"  # tried, nothing kept
    assert out[2] == _run(env, "cold")[2]  # the read fails as it does without the warm-up
