"""Device CSR batches at scale (issue 5), each figure beside a baseline measured in the same run:

- generate N test device key pairs + CSRs (ours: template TBS, both cores) vs bare
  `cryptography` keygen + `CertificateSigningRequestBuilder` on both cores (target >= 50%);
- validate N device CSRs from one zip (ours: zip read + profile + signature + batch rules, both
  cores) vs bare `cryptography` load + signature verification of the same CSRs on both cores
  (target >= 50%);
- both against scripting `openssl req -new` / `openssl req -verify` once per CSR (a sample,
  as a user would today), printed as a speed-up;
- peak memory of the validation process (its own peak + its largest worker's) for N CSRs
  (target < 500 MB).

`python -m bench devices` (N = 50,000) or `--quick` (N = 5,000).
`python -m bench.bench_devices validate ZIP` is the measured child process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Figure

HW = "1.2.826.0.1.8641679.1.2.2.1"
BASE = 0x00DB123456000000
OPENSSL_CNF = """[req]
prompt = no
distinguished_name = dn
req_extensions = ext
[dn]
[ext]
keyUsage = critical,digitalSignature
subjectAltName = critical,otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hmn
[hmn]
hwType = OID:1.2.826.0.1.8641679.1.2.2.1
hwSerialNum = FORMAT:HEX,OCTETSTRING:{eui}
"""


# --- baselines (module level so that spawned workers can import them) -------------------------


def _bare_verify_chunk(ders: list[bytes]) -> list[bool]:
    from cryptography import x509

    return [x509.load_der_x509_csr(d).is_signature_valid for d in ders]


def _bare_gen_chunk(items: list[tuple[bytes, str]]) -> list[bytes]:
    from asn1crypto import core
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    class Hmn(core.Sequence):
        _fields = [("t", core.ObjectIdentifier), ("s", core.OctetString)]  # noqa: RUF012

    out = []
    hmn_oid = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
    for eui, usage in items:
        key = ec.generate_private_key(ec.SECP256R1())
        ku = x509.KeyUsage(usage == "signing", False, False, False, usage != "signing", False,
                           False, False, False)
        san = x509.SubjectAlternativeName(
            [x509.OtherName(hmn_oid, Hmn({"t": HW, "s": eui}).dump())])
        csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
               .add_extension(ku, critical=True).add_extension(san, critical=True)
               .sign(key, hashes.SHA256()))
        out.append(csr.public_bytes(serialization.Encoding.DER))
    return out


# --- the measured validation child ------------------------------------------------------------


def _validate_child(zip_path: str) -> None:
    """The product path: `services.devices.validate` on a fresh Test context."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.crypto import device_csr as dc
    from smki_desktop.services.context import open_context
    from smki_desktop.services.devices import validate

    with tempfile.TemporaryDirectory() as root:
        ctx = open_context(Environment.TEST, Path(root))
        t = time.perf_counter()
        res = validate(ctx, Path(zip_path))
        seconds = time.perf_counter() - t
        ctx.close()
    dc.shutdown_pool()  # join the workers so that their peak memory is counted
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "valid": len(res.accepted),
                      "rejected": len(res.rejected), "rss_self_mb": me,
                      "rss_worker_mb": kids}))


def _openssl_rate(n: int, tmp: Path, what: str, ders: list[bytes]) -> float:
    """CSRs per second when scripting one `openssl req` process per CSR."""
    cnf = tmp / "req.cnf"
    t = time.perf_counter()
    for i in range(n):
        if what == "new":
            cnf.write_text(OPENSSL_CNF.format(eui=f"{BASE + i:016X}"))
            subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp / "k.pem"),
                            "-config", str(cnf), "-subj", "/", "-outform", "DER", "-out",
                            str(tmp / "r.der")], check=True, capture_output=True)
        else:
            f = tmp / "v.der"
            f.write_bytes(ders[i])
            subprocess.run(["openssl", "req", "-inform", "DER", "-in", str(f), "-noout",
                            "-verify"], check=True, capture_output=True)
    return n / (time.perf_counter() - t)


def run(quick: bool = False) -> list[Figure]:
    from smki_desktop.core import batch_formats as bf
    from smki_desktop.core import device_batch as batch
    from smki_desktop.crypto import device_csr as dc

    n = 5_000 if quick else 50_000
    sample = 20 if quick else 60
    procs = dc.default_processes()
    plan = [((BASE + i // 2).to_bytes(8, "big"), dc.USAGES[i % 2]) for i in range(n)]
    figs: list[Figure] = []

    # generation: baseline and ours interleaved on the same machine state
    t = time.perf_counter()
    dc.run_chunked(_bare_gen_chunk, plan, (), processes=procs, chunk=500)
    bare_gen = n / (time.perf_counter() - t)
    t = time.perf_counter()
    gen = dc.generate_many(plan, HW, keep_keys=True, processes=procs)
    ours_gen = n / (time.perf_counter() - t)
    figs.append(Figure(f"generate {n:,} test device keys + CSRs ({procs} processes)", ours_gen,
                       "CSR/s", bare_gen, "bare cryptography keygen + CSR builder, same cores",
                       "ratio >= 0.50", ours_gen / bare_gen >= 0.5))

    ders = [g[2] for g in gen]
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        ssl_new = _openssl_rate(sample, tmp, "new", ders)
        figs.append(Figure("generate: speed-up over one `openssl req -new` per CSR", ours_gen,
                           "CSR/s", ssl_new, f"openssl req -new per CSR ({sample} sampled)"))
        names = [batch.packaged_name(e, u, f"{i:012x}") for i, (e, u, _, _) in enumerate(gen)]
        zip_path = tmp / "batch.zip"
        with open(zip_path, "wb") as fh:
            bf.build_batch_zip(list(zip(names, ders, strict=True)), fh)
        del gen

        t = time.perf_counter()
        dc.run_chunked(_bare_verify_chunk, ders, (), processes=procs, chunk=1000)
        bare_val = n / (time.perf_counter() - t)
        proc = subprocess.run([sys.executable, "-m", "bench.bench_devices", "validate",
                               str(zip_path)], check=True, capture_output=True, text=True,
                              cwd=str(Path(__file__).resolve().parents[1]),
                              env=dict(os.environ))
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        if child["valid"] != n:
            raise RuntimeError(f"validation accepted {child['valid']} of {n}")
        ours_val = n / child["seconds"]
        figs.append(Figure(f"validate {n:,} device CSRs from one zip ({procs} processes)",
                           ours_val, "CSR/s", bare_val,
                           "bare cryptography load + verify of the same CSRs, same cores",
                           "ratio >= 0.50", ours_val / bare_val >= 0.5))
        ssl_ver = _openssl_rate(sample, tmp, "verify", ders)
        figs.append(Figure("validate: speed-up over one `openssl req -verify` per CSR",
                           ours_val, "CSR/s", ssl_ver,
                           f"openssl req -verify per CSR ({sample} sampled)"))
        peak = child["rss_self_mb"] + child["rss_worker_mb"] * procs
        figs.append(Figure(f"peak memory validating {n:,} (main + {procs} x largest worker)",
                           peak, "MB", None, "", "< 500 MB", peak < 500))
    return figs


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "validate":
        _validate_child(sys.argv[2])
    else:
        for f in run(quick="--quick" in sys.argv):
            print(f.line())
