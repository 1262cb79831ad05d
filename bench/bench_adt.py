"""Benchmark: sign and verify a large CSV with SMKI Desktop's streamed CMS code next to
`openssl cms -sign -binary` / `openssl cms -verify -binary` on the same file, in the same run;
and validate a million-row ADT file (peak memory / file size, rows/s) next to Python's csv
module merely reading the same file, each in its own process.

Each tool runs as its own process (process to process is the fair comparison: OpenSSL's time
includes its start-up, so ours includes Python's); wall time is the median of --repeat runs in
alternating order, peak memory is the child's max RSS (os.wait4). Prints the ratios against the
targets: time ratio <= 1.5, peak memory < 2x the file size. Also prints the in-process time of
the signing call alone.

    .venv/bin/python bench/bench_adt.py [--size-mb 100] [--repeat 3] [--dir DIR]
    .venv/bin/python bench/bench_adt.py --validate [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Figure  # noqa: E402


def make_csv(path: Path, size: int) -> None:
    header = (b"User ID,User Role,Service Request Type,Period,User Warning Threshold,"
              b"User Quarantine Threshold\r\n")
    rows = []
    for i in range(4096):
        rows.append(f"90-B3-D5-1F-30-01-{(i >> 8) & 0xFF:02X}-{i & 0xFF:02X},IS,1.1.1,DAY,"
                    f"{1000 + i},{2000 + i}\r\n".encode())
    block = b"".join(rows)
    with open(path, "wb") as f:
        f.write(header)
        written = len(header)
        while written < size:
            chunk = block[: size - written]
            f.write(chunk)
            written += len(chunk)


def make_rows_csv(path: Path, rows: int) -> None:
    """A valid ADT file of `rows` distinct keys (User ID x role x Service Request x period),
    CRLF, as the profile's validator reads it."""
    roles = ("IS", "ES", "GS", "ED", "GT", "OU", "RSA")
    srts = ("ALL", "1.1.1", "6.15.1", "4.1.1")
    per = len(roles) * len(srts) * 2
    with open(path, "wb") as f:
        f.write(b"User ID,User Role,Service Request Type,Period,User Warning Threshold,"
                b"User Quarantine Threshold\r\n")
        buf: list[str] = []
        for i in range(rows):
            e, k = divmod(i, per)
            r, k = divmod(k, len(srts) * 2)
            s, p = divmod(k, 2)
            buf.append(f"90-B3-D5-1F-30-{(e >> 16) & 0xFF:02X}-{(e >> 8) & 0xFF:02X}-"
                       f"{e & 0xFF:02X},{roles[r]},{srts[s]},{'DAY' if p else 'HOUR'},"
                       f"{1000 + i % 5000},{9000 + i % 5000}\r\n")
            if len(buf) >= 10_000:
                f.write("".join(buf).encode())
                buf = []
        f.write("".join(buf).encode())


GNU_TIME = "/usr/bin/time"


def run_child(cmd: list[str], env: dict[str, str] | None = None
              ) -> tuple[float, int, float, str]:
    """Wall seconds, peak RSS bytes, CPU seconds (user+sys), stderr of one child process.
    Peak RSS comes from GNU time when installed (os.wait4 would also count the memory the
    child had as a fork of this process before it exec'd)."""
    use_time = os.path.exists(GNU_TIME)
    full = [GNU_TIME, "-f", "@@ %M %U %S", *cmd] if use_time else cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert p.stderr is not None
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"child failed ({code}): {' '.join(cmd)}\n{err}")
    if use_time:
        line = [ln for ln in err.splitlines() if ln.startswith("@@ ")][-1]
        _, rss_kb, user, sys_ = line.split()
        return wall, int(rss_kb) * 1024, float(user) + float(sys_), err
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, err


def child(argv: list[str]) -> int:
    """Our side, in its own process: `sign FILE KEY CERT OUT`, `verify FILE SIG CA`,
    `validate FILE` (the app's streamed validator) or `csv FILE` (the csv module reading it);
    the last two print `@@rows ROWS SECONDS` to stderr (the call alone, without start-up)."""
    if argv[0] in ("validate", "csv"):
        return _validate_child(argv[0], argv[1])
    from cryptography import x509

    from smki_desktop.crypto.cms import sign_detached, verify_detached

    if argv[0] == "sign":
        from smki_desktop.crypto.memory_signer import MemorySigner

        signer = MemorySigner.from_pem(Path(argv[2]).read_bytes())
        cert = x509.load_pem_x509_certificate(Path(argv[3]).read_bytes())
        with open(argv[1], "rb", buffering=0) as fh:
            sig = sign_detached(fh, signer, cert, datetime.now(UTC))
        Path(argv[4]).write_bytes(sig)
        return 0
    ca = x509.load_pem_x509_certificate(Path(argv[3]).read_bytes())
    with open(argv[1], "rb", buffering=0) as fh:
        verify_detached(fh, Path(argv[2]).read_bytes(), trust_anchors=[ca])
    return 0


def _validate_child(what: str, path: str) -> int:
    if what == "csv":
        import csv

        t0 = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as fh:
            rows = sum(1 for _ in csv.reader(fh)) - 1
        took = time.perf_counter() - t0
    else:
        from smki_desktop.core.adt.profile import Profile
        from smki_desktop.core.adt.validate import validate_path
        from smki_desktop.core.eui import EuiRange
        from smki_desktop.resources_path import resource

        # the core alone: importing the services (cryptography, the store) adds ~20 MB of RSS
        # that is not the validator's
        profile = Profile.from_json(resource("adt", "adt-file", "1.json").read_bytes())
        ranges = [EuiRange.parse("90-B3-D5-1F-30-00-00-00..90-B3-D5-1F-30-FF-FF-FF")]
        t0 = time.perf_counter()
        report = validate_path(path, profile, ranges)
        took = time.perf_counter() - t0
        if not report.ok:
            raise SystemExit(report.summary())
        rows = report.row_count
    print(f"@@rows {rows} {took:.6f}", file=sys.stderr)
    return 0


def measure_validation(rows: int = 1_000_000, repeat: int = 1, folder: Path | None = None
                       ) -> dict[str, float]:
    """Validate a generated `rows`-row ADT file in a child process (peak RSS, rows/s of the
    call) next to the csv module reading it in another."""
    with tempfile.TemporaryDirectory(dir=folder) as d:
        data = Path(d) / "adt-rows.csv"
        make_rows_csv(data, rows)
        size = data.stat().st_size
        py = [sys.executable, str(Path(__file__).resolve()), "--child"]
        out: dict[str, float] = {"size": float(size), "rows": float(rows)}
        for name in ("csv", "validate"):
            best, peak = float("inf"), 0
            for _ in range(repeat):
                _, rss, _, err = run_child([*py, name, str(data)])
                line = [ln for ln in err.splitlines() if ln.startswith("@@rows ")][-1]
                _, n, took = line.split()
                if int(n) != rows:
                    raise SystemExit(f"{name}: read {n} rows, expected {rows}")
                best, peak = min(best, float(took)), max(peak, rss)
            out[f"{name} rows/s"] = rows / best
            out[f"{name} rss"] = float(peak)
    return out


def measure(size_mb: int = 100, repeat: int = 3, folder: Path | None = None
            ) -> dict[str, float]:
    """Run the comparison; returns the figures by name."""
    from cryptography.hazmat.primitives import serialization

    from smki_desktop.core.environment import Environment
    from smki_desktop.crypto.cms import sign_detached, verify_detached
    from smki_desktop.crypto.demo_pki import make_demo_pki

    with tempfile.TemporaryDirectory(dir=folder) as d:
        tmp = Path(d)
        size = size_mb * 1024 * 1024
        data = tmp / "adt-big.csv"
        make_csv(data, size)
        pki = make_demo_pki(Environment.TEST)
        key_pem = tmp / "key.pem"
        key_pem.write_bytes(pki.signer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        cert_pem, ca_pem = tmp / "cert.pem", tmp / "ca.pem"
        cert_pem.write_bytes(pki.cert_pem())
        ca_pem.write_bytes(pki.root_pem())
        ours_sig, ossl_sig = tmp / "ours.p7s", tmp / "openssl.p7s"
        py = [sys.executable, str(Path(__file__).resolve()), "--child"]
        cmds = {
            "openssl sign": ["openssl", "cms", "-sign", "-binary", "-md", "sha256",
                             "-in", str(data), "-signer", str(cert_pem), "-inkey", str(key_pem),
                             "-outform", "DER", "-out", str(ossl_sig)],
            "ours sign": [*py, "sign", str(data), str(key_pem), str(cert_pem), str(ours_sig)],
            "openssl verify": ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                               "-in", str(ossl_sig), "-content", str(data), "-CAfile",
                               str(ca_pem), "-out", "/dev/null"],
            "ours verify": [*py, "verify", str(data), str(ours_sig), str(ca_pem)],
        }
        with open(data, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        times: dict[str, list[float]] = {k: [] for k in cmds}
        cpu: dict[str, list[float]] = {k: [] for k in cmds}
        peaks: dict[str, int] = dict.fromkeys(cmds, 0)
        order = list(cmds)
        for r in range(repeat):  # alternate who goes first
            seq = order if r % 2 == 0 else [order[1], order[0], order[3], order[2]]
            for name in seq:
                wall, rss, cpu_s, _ = run_child(cmds[name])
                times[name].append(wall)
                cpu[name].append(cpu_s)
                peaks[name] = max(peaks[name], rss)
        # cross-check: OpenSSL verifies our signature, with the chain
        _, _, _, err = run_child(["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                                  "-in", str(ours_sig), "-content", str(data), "-CAfile",
                                  str(ca_pem), "-out", "/dev/null"])
        if "Verification successful" not in err:
            raise SystemExit(f"OpenSSL did not verify our signature: {err}")
        inproc, inproc_v = [], []
        for _ in range(repeat):  # the calls alone, as the running app makes them
            t0 = time.perf_counter()
            with open(data, "rb", buffering=0) as fh:
                sig = sign_detached(fh, pki.signer, pki.certificate, datetime.now(UTC))
            inproc.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with open(data, "rb", buffering=0) as fh:
                verify_detached(fh, sig, trust_anchors=[pki.root])
            inproc_v.append(time.perf_counter() - t0)
    out: dict[str, float] = {"size": float(size)}
    for k in cmds:
        out[f"{k} s"] = statistics.median(times[k])
        out[f"{k} cpu"] = statistics.median(cpu[k])
        out[f"{k} rss"] = float(peaks[k])
    out["inproc sign s"] = statistics.median(inproc)
    out["inproc verify s"] = statistics.median(inproc_v)
    return out


def measure_cli(repeat: int = 1, folder: Path | None = None, size_mb: int = 100
                ) -> dict[str, object]:
    """The real commands, `smki adt sign` + `smki adt verify`, one process each, in a private
    keyring session with the database and audit they normally use (Test; the file-signing
    credential issued by the simulator), next to `openssl cms -sign` + `-verify` of the same
    file with a key and certificate of the same kind.

    The file is a VALID ADT file of about `size_mb` MiB (distinct keys, `make_rows_csv`).
    As untimed set-up, `smki adt validate` checks it (its time is reported as a figure of its
    own): that records the validation receipt, so the timed `smki adt sign` hashes the file once
    and signs the bytes validated before instead of validating every row again (its audit
    record says so, and the bench checks it)."""
    import hashlib
    import json

    from cryptography.hazmat.primitives import serialization

    from smki_desktop.core.environment import Environment
    from smki_desktop.core.eui import EuiRange
    from smki_desktop.core.party import OfficerProfile, OfficerRole, PartyProfile, PartyType
    from smki_desktop.crypto.demo_pki import make_demo_pki
    from smki_desktop.services import first_run, party, simulator_control
    from smki_desktop.services.context import open_context
    from tests.support.secret_service import secret_service_env

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(dir=folder) as d, \
            secret_service_env(Path(d) / "keyring") as session:
        tmp = Path(d)
        root = tmp / "data"
        ctx = open_context(Environment.TEST, root)
        try:
            party.set_party(ctx, PartyProfile(
                "Bench Energy Ltd", "BENCH", PartyType.IMPORT_SUPPLIER,
                (EuiRange.parse("90-B3-D5-1F-30-00-00-00..90-B3-D5-1F-30-FF-FF-FF"),)))
            party.set_officer(ctx, OfficerProfile("Ann Bench", OfficerRole.ARO))
            walk = first_run.Walk()
            for step in ("simulator", "credentials"):
                first_run.run_step(ctx, step, walk)
            key_id = first_run.credentials.require_credential(ctx, "file-signing").key_id
        finally:
            simulator_control.stop(ctx)
            ctx.close()
        env = dict(session.env)
        run_dir = tmp / "run"  # the agent's socket folder: this run's own
        run_dir.mkdir(mode=0o700)
        agent_env = {**os.environ, **env, "SMKI_AGENT": "on", "XDG_RUNTIME_DIR": str(run_dir),
                     "SMKI_AGENT_IDLE": "300"}
        direct_env = {**os.environ, **env, "SMKI_AGENT": "off"}
        env = direct_env
        smki = [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(root)]

        data = tmp / "adt-100mib.csv"
        rows = int(size_mb * 2**20 / 49)  # ~49 bytes a generated row
        make_rows_csv(data, rows)
        t0 = time.perf_counter()
        checked = subprocess.run([*smki, "adt", "validate", str(data), "--json"], env=env,
                                 capture_output=True, text=True, check=False)
        out["validate s"] = time.perf_counter() - t0
        if checked.returncode != 0:
            raise SystemExit(f"smki adt validate refused the generated file: "
                             f"{checked.stdout[-400:]}{checked.stderr[-400:]}")
        if json.loads(checked.stdout)["rows"] != rows:
            raise SystemExit("smki adt validate counted another number of rows")
        pki = make_demo_pki(Environment.TEST)  # openssl's side: a key and chain of its own
        key_pem, cert_pem, ca_pem = tmp / "key.pem", tmp / "cert.pem", tmp / "ca.pem"
        key_pem.write_bytes(pki.signer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        cert_pem.write_bytes(pki.cert_pem())
        ca_pem.write_bytes(pki.root_pem())
        ossl_sig = tmp / "openssl.p7s"
        cmds = {
            "openssl sign": ["openssl", "cms", "-sign", "-binary", "-md", "sha256",
                             "-in", str(data), "-signer", str(cert_pem), "-inkey", str(key_pem),
                             "-outform", "DER", "-out", str(ossl_sig)],
            "smki sign": [*smki, "adt", "sign", str(data), "--key", key_id, "--overwrite"],
            "openssl verify": ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                               "-in", str(ossl_sig), "-content", str(data), "-CAfile",
                               str(ca_pem), "-out", "/dev/null"],
            "smki verify": [*smki, "adt", "verify", str(data)],
            # the same two commands in processes of their own, no agent (SMKI_AGENT=off)
            "no agent sign": [*smki, "adt", "sign", str(data), "--key", key_id, "--overwrite"],
            "no agent verify": [*smki, "adt", "verify", str(data)],
            # the floor under each process (bench/adt_floor.py): what it must import, nothing done
            "floor sign": [sys.executable, str(Path(__file__).with_name("adt_floor.py")),
                           "sign", str(data)],
            "floor verify": [sys.executable, str(Path(__file__).with_name("adt_floor.py")),
                             "verify", str(data)],
        }
        with open(data, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        times: dict[str, list[float]] = {k: [] for k in cmds}
        cpu: dict[str, list[float]] = {k: [] for k in cmds}
        # The agent as an officer has it: started by an earlier command (untimed: a sign that
        # runs without one and starts it), then one command of each kind through it
        subprocess.run(cmds["smki sign"], env=agent_env, capture_output=True, check=True)
        agent_pid = _wait_agent(smki, agent_env)
        for name in ("smki verify", "smki sign"):
            subprocess.run(cmds[name], env=agent_env, capture_output=True, check=True)
        try:
            order = list(cmds)  # pairs: openssl/agent sign and verify, no agent, the floors
            for r in range(repeat):  # alternate who goes first within each pair
                seq = order if r % 2 == 0 else [order[i ^ 1] for i in range(len(order))]
                for name in seq:
                    through_agent = name.startswith("smki ")
                    before = _children_cpu(agent_pid) if through_agent else 0.0
                    wall, _, cpu_s, _ = run_child(
                        cmds[name], agent_env if through_agent else direct_env)
                    if through_agent:  # the agent's child did the work: its CPU counts
                        cpu_s += _children_cpu(agent_pid) - before
                    times[name].append(wall)
                    cpu[name].append(cpu_s)
        finally:
            subprocess.run([*smki, "agent", "stop"], env=agent_env, capture_output=True,
                           check=False)
        if agent_pid is None:
            raise SystemExit("no command agent answered: the figure would not be the agent's")
        out["agent pid"] = agent_pid
        ctx = open_context(Environment.TEST, root)
        try:
            signs = ctx.audit.entries(action_prefix="adt.sign")
        finally:
            ctx.close()
        ways = {str(e.details.get("validation", "")).split(" at ")[0] for e in signs}
        if ways != {"validated before"}:
            raise SystemExit(f"the timed signings did not use the receipt: {ways}")
        out["size"] = data.stat().st_size
        out["rows"] = rows
        out["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
        for k in cmds:
            out[f"{k} s"] = statistics.median(times[k])
            out[f"{k} cpu"] = statistics.median(cpu[k])
    return out


def _wait_agent(smki: list[str], env: dict[str, str]) -> int | None:
    """The command agent's process id once it answers (it imports for ~0.3 s after starting)."""
    import json

    for _ in range(100):
        got = subprocess.run([*smki, "agent", "status", "--json"], env=env,
                             capture_output=True, text=True, check=True)
        pid = json.loads(got.stdout)["pid"]
        if pid is not None:
            return int(pid)
        time.sleep(0.1)
    return None


def _children_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of a process's waited-for children, from /proc (clock
    ticks: 10 ms steps)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _ratios(m: dict[str, float]) -> dict[str, float]:
    ossl = m["openssl sign s"] + m["openssl verify s"]
    return {
        "process": (m["ours sign s"] + m["ours verify s"]) / ossl,
        "sign": m["ours sign s"] / m["openssl sign s"],
        "verify": m["ours verify s"] / m["openssl verify s"],
        "cpu": (m["ours sign cpu"] + m["ours verify cpu"]) / (m["openssl sign cpu"]
                                                              + m["openssl verify cpu"]),
        "inproc": (m["inproc sign s"] + m["inproc verify s"]) / ossl,
        "memory": max(m["ours sign rss"], m["ours verify rss"]) / m["size"],
    }


def run(quick: bool = False) -> list[Figure]:
    """For `python -m bench`: figures with OpenSSL as the baseline measured in the same run."""
    m = measure(100, 1 if quick else 3)  # the memory target needs the real size
    r = _ratios(m)
    v = measure_validation(200_000 if quick else 1_000_000, 1 if quick else 2)
    vmem, cmem = v["validate rss"] / v["size"], v["csv rss"] / v["size"]
    c = measure_cli(1 if quick else 5, size_mb=20 if quick else 100)
    ossl = m["openssl sign s"] + m["openssl verify s"]
    cli = float(c["smki sign s"]) + float(c["smki verify s"])  # type: ignore[arg-type]
    cli_ossl = float(c["openssl sign s"]) + float(c["openssl verify s"])  # type: ignore[arg-type]
    cli_cpu = float(c["smki sign cpu"]) + float(c["smki verify cpu"])  # type: ignore[arg-type]
    floor = float(c["floor sign s"]) + float(c["floor verify s"])  # type: ignore[arg-type]
    cli_ossl_cpu = (float(c["openssl sign cpu"])  # type: ignore[arg-type]
                    + float(c["openssl verify cpu"]))  # type: ignore[arg-type]
    bare = float(c["no agent sign s"]) + float(c["no agent verify s"])  # type: ignore[arg-type]
    bare_cpu = (float(c["no agent sign cpu"])  # type: ignore[arg-type]
                + float(c["no agent verify cpu"]))  # type: ignore[arg-type]
    mb = m["size"] / 2**20
    cmb = float(c["size"]) / 2**20  # type: ignore[arg-type]
    print(f"  'ADT 100 MiB sign+verify, one process each': the real `smki adt sign` + "
          f"`smki adt verify` of a valid ADT file of {c['rows']:,} rows ({cmb:.0f} MiB), "
          "validated first by `smki adt validate` (untimed set-up, its own figure below); "
          "sign used the validation receipt (checked in its audit record); each `smki` process "
          "hands its command to the command agent an earlier command started (process "
          f"{c['agent pid']}; its child's CPU is counted with the command's), as an officer's "
          "second and later commands are run; 'no agent' runs each in its own process alone "
          "(SMKI_AGENT=off), as a first command is")
    print("  each, median wall (CPU): " + ", ".join(
        f"{k} {float(c[k + ' s']):.3f} s ({float(c[k + ' cpu']):.3f} s)"  # type: ignore[arg-type]
        for k in ("smki sign", "smki verify", "no agent sign", "no agent verify",
                  "openssl sign", "openssl verify", "floor sign", "floor verify")))
    return [
        Figure(f"ADT {mb:.0f} MiB sign+verify, in-process calls",
               m["inproc sign s"] + m["inproc verify s"], "s", ossl,
               "openssl cms -sign + -verify processes", "ratio <= 1.5", r["inproc"] <= 1.5),
        Figure(f"ADT {mb:.0f} MiB CMS sign+verify, one process each (signing code only)",
               m["ours sign s"] + m["ours verify s"], "s", ossl,
               "openssl cms -sign + -verify processes", "ratio <= 1.5", r["process"] <= 1.5),
        Figure("ADT 100 MiB sign+verify, one process each",
               cli, "s", cli_ossl, "openssl cms -sign + -verify processes, same file",
               "ratio <= 1.5", cli / cli_ossl <= 1.5),
        Figure("  the same, CPU time (user + system)", cli_cpu, "s", cli_ossl_cpu,
               "openssl cms -sign + -verify processes"),
        Figure("  the same with no command agent (SMKI_AGENT=off: a first command, or the agent "
               "turned off)", bare, "s", cli_ossl, "openssl cms -sign + -verify processes, "
               "same file"),
        Figure("    its CPU time (user + system)", bare_cpu, "s", cli_ossl_cpu,
               "openssl cms -sign + -verify processes"),
        Figure("  floor under it: two Python processes that only start, import the libraries "
               "the commands need and hash the file on a thread (bench/adt_floor.py)", floor, "s",
               cli_ossl, "openssl cms -sign + -verify processes, same file"),
        Figure(f"  set-up, untimed above: smki adt validate of the same {cmb:.0f} MiB file "
               f"({c['rows']:,} rows, one process)", float(c["validate s"]), "s",  # type: ignore[arg-type]
               None, ""),
        Figure("ADT sign peak RSS / file size", r["memory"], "x", None, "", "< 2",
               r["memory"] < 2),
        Figure(f"ADT validate {v['rows']:,.0f} rows ({v['size'] / 2**20:.0f} MiB): peak RSS / "
               "file size", vmem, "x", cmem, "csv module reading the file, own process",
               "< 2", vmem < 2),
        Figure(f"ADT validate {v['rows']:,.0f} rows: throughput", v["validate rows/s"],
               "rows/s", v["csv rows/s"], "csv module reading the file"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--validate", action="store_true",
                    help="only the validation figures (million-row ADT file)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.validate:
        v = measure_validation(args.rows, args.repeat, args.dir)
        size = v["size"]
        print(f"file: {v['rows']:,.0f} rows, {size / 2**20:.1f} MiB")
        for name in ("csv", "validate"):
            print(f"  {name:9s} {v[name + ' rows/s']:11,.0f} rows/s  peak RSS "
                  f"{v[name + ' rss'] / 1e6:7.1f} MB ({v[name + ' rss'] / size:.2f}x file)")
        return 0
    m = measure(args.size_mb, args.repeat, args.dir)
    r = _ratios(m)
    size = m["size"]
    print(f"file: {size / 2**20:.0f} MiB CSV ({size:.0f} bytes), {args.repeat} round(s), "
          "median wall time")
    for name in ("openssl sign", "ours sign", "openssl verify", "ours verify"):
        t = m[f"{name} s"]
        print(f"  {name:15s} {t:7.3f} s  {size / 1e6 / t:7.1f} MB/s  CPU {m[name + ' cpu']:6.3f} s"
              f"  peak RSS {m[name + ' rss'] / 1e6:7.1f} MB ({m[name + ' rss'] / size:.2f}x file)")
    print(f"ratio sign   ours/openssl (process each): {r['sign']:.2f}")
    print(f"ratio verify ours/openssl (process each): {r['verify']:.2f}")
    print(f"ratio sign+verify (process each): {r['process']:.2f}  (target <= 1.5); "
          f"CPU time ratio {r['cpu']:.2f}")
    print(f"in-process calls (app already running): sign {m['inproc sign s']:.3f} s, verify "
          f"{m['inproc verify s']:.3f} s; sign+verify ratio {r['inproc']:.2f}  (target <= 1.5)")
    print(f"peak memory ours / file size: {r['memory']:.2f}  (target < 2)")
    print("RESULT: in-process " + ("within" if r["inproc"] <= 1.5 and r["memory"] < 2
                                   else "OUTSIDE")
          + " targets; process-to-process " + ("within" if r["process"] <= 1.5 else "OUTSIDE")
          + " (the difference is Python start-up and imports: "
          f"{m['ours sign s'] - m['inproc sign s']:.2f} s per process here)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        raise SystemExit(child(sys.argv[2:]))
    raise SystemExit(main())
