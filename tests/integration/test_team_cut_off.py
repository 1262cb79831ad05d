"""A team store cut off by the network (issue 16, partitions): packets dropped, no RST, so the
client's kernel never hears that the peer is gone. The query under way fails within ~20 s with
the store's "cannot be reached" message instead of waiting forever.

The fault is produced for real: a child process in its own network namespace (`unshare -n`,
root) reaches the test's PostgreSQL server over TCP on its own 127.0.0.1 through a small
forwarder to the server's unix socket, then takes its loopback interface down while a query
waits for its answer. Nothing is faked; only the namespace's packets stop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.postgres import PASSWORD, PostgresServer

CHILD = textwrap.dedent('''
    import json, os, socket, subprocess, sys, threading, time
    from pathlib import Path

    from smki_desktop.store import team_link

    unix_path, dbname, password, env_dir = sys.argv[1:5]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def pump(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass

    def serve():
        while True:
            client, _ = listener.accept()
            server = socket.socket(socket.AF_UNIX)
            server.connect(unix_path)
            threading.Thread(target=pump, args=(client, server), daemon=True).start()
            threading.Thread(target=pump, args=(server, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    link = team_link.TeamLink(f"postgresql://smki@127.0.0.1:{port}/{dbname}", "c" * 32,
                              "2026-01-01T00:00:00+00:00")
    store = team_link.open_store(link, password, Path(env_dir), migrate=False)
    assert store.conn().execute("SELECT 1").fetchone()[0] == 1
    outcome = {}

    def query():
        started = time.monotonic()
        try:
            store.conn().execute("SELECT pg_sleep(60)")
            outcome["text"] = "answered"
        except Exception as exc:
            outcome["text"] = f"{type(exc).__name__}: {exc}"
        outcome["ended"] = time.monotonic()

    t = threading.Thread(target=query, daemon=True)
    t.start()
    time.sleep(1.0)  # the query is at the server, waiting for its answer
    subprocess.run(["ip", "link", "set", "lo", "down"], check=True)
    cut = time.monotonic()
    t.join(45)
    print(json.dumps({"text": outcome.get("text", "still waiting"),
                      "seconds": outcome.get("ended", time.monotonic()) - cut}), flush=True)
    os._exit(0)
''')


def test_a_query_to_a_cut_off_server_fails_within_seconds(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        # CI runs as root, and setup.sh --test installs iproute2: a missing part fails the run
        pytest.fail("cutting a network off needs root, unshare (util-linux) and ip (iproute2)",
                    pytrace=False)
    name = postgres_server.create_database()
    unix_path = postgres_server.socket_dir / f".s.PGSQL.{postgres_server.port}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run(["unshare", "-n", sys.executable, "-c", CHILD, str(unix_path), name,
                        PASSWORD, str(tmp_path)],
                       capture_output=True, text=True, timeout=90, env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["text"] != "still waiting", f"the query still waited 45 s after the cut: {got}"
    assert "cannot be reached" in got["text"], got
    assert got["seconds"] < 30, got
