"""Files a user or the DCC hands us: device CSVs, zips, portal reports and manifests, ADT and
quarantine CSVs, JSON/TOML (nomination input, manifests, profiles, form schemas) and offline
bundles. Every hostile file ends in a result or a clear `SmkiError`, within the time bound,
and nothing is written outside the chosen folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.adt.manifest import FORMAT as ADT_FORMAT
from smki_desktop.core.adt.manifest import Manifest as AdtManifest
from smki_desktop.core.adt.profile import Profile as AdtProfile
from smki_desktop.core.adt.quarantine import parse_decisions
from smki_desktop.core.adt.validate import render_csv, template_rows, validate
from smki_desktop.core.environment import Environment
from smki_desktop.core.forms import schema_from_json
from smki_desktop.core.profiles import parse_profile
from smki_desktop.crypto.device_csr import check_device_csr
from smki_desktop.portal import offline, upload
from smki_desktop.resources_path import resource
from smki_desktop.services import devices, nomination
from smki_desktop.services.adt import load_profile as adt_profile
from tests.fuzz import corpus
from tests.fuzz.harness import FUZZ, clean_end, snapshot
from tests.fuzz.hostile_json import deep, mutated

CSV = corpus.device_csv_cases()
ZIPS = corpus.zip_cases()
JSON = corpus.json_cases()
TOML = corpus.toml_cases()
ADT_KINDS = ("adt-file", "quarantine-report", "quarantine-action")
ADT = {k: adt_profile(k) for k in ADT_KINDS}


def _ids(cases: list[tuple[str, bytes]]) -> list[str]:
    return [label for label, _ in cases]


# --- device CSV -----------------------------------------------------------------------------

@pytest.mark.parametrize("label,data", CSV, ids=_ids(CSV))
def test_device_csv_corpus(label: str, data: bytes, tmp_path: Path) -> None:
    clean_end("device CSV (parse_csv)", lambda d: batch.parse_csv(d, "in.csv"), data,
              input_error=True)
    f = tmp_path / "in.csv"
    f.write_bytes(data)
    clean_end("device source (read_source)", devices.read_source, f, input_error=True)


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=40), max_size=5), max_size=20),
       enc=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
def test_device_csv_property(rows: list[list[str]], enc: str) -> None:
    text = "device_eui,usage,csr\n" + "\n".join(",".join(r) for r in rows)
    try:
        data = text.encode(enc)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    clean_end("device CSV (parse_csv)", lambda d: batch.parse_csv(d, "in.csv"), data,
              input_error=True)


def test_reject_report_neutralises_formulas() -> None:
    """A reject report opened in a spreadsheet must not run the text a hostile file put in a
    member name or a cell: every cell that starts like a formula is quoted."""
    for f in corpus.FORMULAS:
        data = f'device_eui,usage,csr\n"{f}",signing,AA\n00-DB-00-00-00-00-00-01,"{f}",AA\n'
        _entries, rejects = batch.parse_csv(data.encode(), f)
        rejects.append(batch.Rejection(f, f, "member", f, f, f))
        out = batch.reject_report_csv(rejects).decode()
        for row in list(csv.reader(io.StringIO(out, newline="")))[1:]:
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (f, row)


# --- zips and portal response files ---------------------------------------------------------

@pytest.mark.parametrize("label,data", ZIPS, ids=_ids(ZIPS))
def test_zip_corpus(label: str, data: bytes, tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    before = snapshot(tmp_path)
    zpath = chosen / "batch-response.zip"
    zpath.write_bytes(data)
    clean_end("batch zip (read_batch_zip)", bf.read_batch_zip, data, input_error=True)
    clean_end("response zip (read_response_zip)", bf.read_response_zip, data, input_error=True)
    clean_end("device source zip (read_source)", devices.read_source, zpath, input_error=True)
    report = chosen / "R1.txt"
    report.write_bytes(bf.build_report("R1", []))
    clean_end("portal response (upload.read_response)",
              lambda z: upload.read_response(report, z), zpath, input_error=True)
    # nothing written anywhere but the files this test put in the chosen folder
    assert snapshot(tmp_path) - before == {zpath, report}


@FUZZ
@given(data=st.binary(max_size=4096) | st.sampled_from([d for _l, d in ZIPS if len(d) < 70_000])
       .flatmap(lambda d: st.tuples(st.just(d), st.integers(0, len(d) - 1), st.binary(
           min_size=1, max_size=8)).map(lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + len(t[2]):])))
def test_zip_property(data: bytes) -> None:
    clean_end("batch zip (read_batch_zip)", bf.read_batch_zip, data, input_error=True)
    clean_end("response zip (read_response_zip)", bf.read_response_zip, data, input_error=True)


@FUZZ
@given(lines=st.lists(st.text(max_size=60), max_size=20), bom=st.booleans())
def test_report_property(lines: list[str], bom: bool) -> None:
    head = "SMKI Batch Response Report\nRequest ID: R1\nCSR ID\tFile Name\tStatus\tError Code\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + (head + "\n".join(lines)).encode("utf-8",
                                                                              "surrogatepass")
    clean_end("portal report (parse_report)", bf.parse_report, data, input_error=True)


@pytest.mark.parametrize("label,data", CSV + JSON, ids=_ids(CSV + JSON))
def test_report_and_manifest_corpus(label: str, data: bytes) -> None:
    clean_end("portal report (parse_report)", bf.parse_report, data, input_error=True)
    clean_end("batch manifest (parse_manifest)", bf.parse_manifest, data, input_error=True)


BATCH_MANIFEST = {"format": bf.MANIFEST_FORMAT, "batch": "b", "environment": "test", "total": 1,
                  "parts": [{"zip": "a.zip", "count": 1, "sha256": "0" * 64, "files": ["a"]}]}


@FUZZ
@given(data=mutated(BATCH_MANIFEST))
def test_batch_manifest_property(data: bytes) -> None:
    clean_end("batch manifest (parse_manifest)", bf.parse_manifest, data, input_error=True)


# --- ADT and quarantine CSVs -----------------------------------------------------------------

def _adt_cases(kind: str) -> list[tuple[str, bytes]]:
    prof = ADT[kind]
    good = render_csv(prof, template_rows(prof, None))
    text = good.decode("utf-8")
    return [
        ("good", good), ("utf16", text.encode("utf-16")), ("bom", b"\xef\xbb\xbf" + good),
        ("latin1", text.replace("A", "\xc0").encode("latin-1")),
        ("nul", good.replace(b",", b"\x00,")), ("cr-only", good.replace(b"\r\n", b"\r")),
        ("header-only", good.split(b"\n")[0]), ("no-header", good.split(b"\n", 1)[-1]),
        ("huge-row", good + b"x," * 200_000 + b"\r\n"),
        ("huge-field", good + b'"' + b"A" * 200_000 + b'"\r\n'),
        ("unbalanced-quote", good + b'"abc,def\r\n'),
        ("formulas", good + ",".join(corpus.FORMULAS).encode() + b"\r\n"),
        ("binary", bytes(range(256)) * 8),
        *[(f"csv-{label}", d) for label, d in CSV[:12]],
    ]


@pytest.mark.parametrize("kind", ADT_KINDS)
def test_adt_csv_corpus(kind: str) -> None:
    for _label, data in _adt_cases(kind):
        clean_end(f"ADT CSV (validate {kind})", lambda d: validate(d, ADT[kind]), data)


@pytest.mark.parametrize("kind", ADT_KINDS)
@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=30), max_size=8), max_size=10),
       sep=st.sampled_from([",", ";", "\t", "|"]), end=st.sampled_from(["\r\n", "\n", "\r"]))
def test_adt_csv_property(kind: str, rows: list[list[str]], sep: str, end: str) -> None:
    prof = ADT[kind]
    head = sep.join(prof.column_names)
    data = (end.join([head, *(sep.join(r) for r in rows)]) + end).encode("utf-8",
                                                                         "surrogatepass")
    clean_end(f"ADT CSV (validate {kind})", lambda d: validate(d, prof), data)


@pytest.mark.parametrize("label,data", CSV + _adt_cases("quarantine-action"),
                         ids=_ids(CSV + _adt_cases("quarantine-action")))
def test_quarantine_decisions_corpus(label: str, data: bytes) -> None:
    clean_end("quarantine decisions (parse_decisions)", parse_decisions, data,
              input_error=True)


# --- JSON and TOML ---------------------------------------------------------------------------

ADT_MANIFEST = {"format": ADT_FORMAT, "format_version": 1, "kind": "adt-file",
                "environment": "test",
                "file": {"name": "a.csv", "size": 1, "sha256": "0" * 64},
                "signature": {"name": "a.csv.p7s", "sha256": "0" * 64},
                "signed_at": "2026-01-01T00:00:00+00:00",
                "signer": {"key_id": "k", "certificate_sha256": "0" * 64, "subject": "s",
                           "issuer": "i", "serial": "1"}}
JSON_PARSERS = {
    "ADT manifest (Manifest.from_bytes)": AdtManifest.from_bytes,
    "ADT profile (Profile.from_json)": AdtProfile.from_json,
    "SMKI profile (parse_profile)": parse_profile,
    "form schema (schema_from_json)": schema_from_json,
    "batch manifest (parse_manifest)": bf.parse_manifest,
}


@pytest.mark.parametrize("name", JSON_PARSERS)
def test_json_corpus(name: str) -> None:
    for _label, data in JSON:
        clean_end(name, JSON_PARSERS[name], data, input_error=True)


def test_adt_manifest_deep() -> None:
    """A manifest nested 50,000 deep under a valid head: an InputError, not a RecursionError."""
    clean_end("ADT manifest (Manifest.from_bytes)", AdtManifest.from_bytes,
              deep(50_000, ADT_MANIFEST, "file"), input_error=True)


@FUZZ
@given(data=mutated(ADT_MANIFEST, keep=("format", "format_version")))
def test_adt_manifest_property(data: bytes) -> None:
    clean_end("ADT manifest (Manifest.from_bytes)", AdtManifest.from_bytes, data,
              input_error=True)


def _shipped(*parts: str) -> dict:  # type: ignore[type-arg]
    return json.loads(resource(*parts).read_bytes())


@FUZZ
@given(data=st.sampled_from([("adt", "adt-file", "1.json")]).flatmap(
    lambda p: mutated(_shipped(*p), keep=())))
def test_adt_profile_property(data: bytes) -> None:
    clean_end("ADT profile (Profile.from_json)", AdtProfile.from_json, data, input_error=True)


@FUZZ
@given(data=mutated(_shipped("forms", "aro-v1.json"), keep=()))
def test_form_schema_property(data: bytes) -> None:
    clean_end("form schema (schema_from_json)", schema_from_json, data, input_error=True)


def _nomination_doc() -> dict:  # type: ignore[type-arg]
    return json.loads(nomination.template_text("aro", "json"))


@pytest.mark.parametrize("label,data", JSON, ids=_ids(JSON))
def test_nomination_json_corpus(label: str, data: bytes, tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    f.write_bytes(data)
    clean_end("nomination input (read_input JSON)", lambda p: nomination.read_input(p, "aro"),
              f, input_error=True)


@pytest.mark.parametrize("label,data", TOML, ids=_ids(TOML))
def test_nomination_toml_corpus(label: str, data: bytes, tmp_path: Path) -> None:
    f = tmp_path / "in.toml"
    f.write_bytes(data)
    clean_end("nomination input (read_input TOML)", lambda p: nomination.read_input(p, "aro"),
              f, input_error=True)


@pytest.mark.parametrize("version", ['"one"', "NaN", "Infinity", "-Infinity", "9" * 5000,
                                     "[]", "{}", "null", "true", "1.5"])
def test_nomination_version_of_wrong_type(version: str, tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    doc = _nomination_doc()
    f.write_bytes(json.dumps(doc).replace(f'"version": {doc["version"]}',
                                          f'"version": {version}').encode())
    clean_end("nomination input (read_input JSON)", lambda p: nomination.read_input(p, "aro"),
              f, input_error=True)


def test_nomination_deep(tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    f.write_bytes(deep(50_000, _nomination_doc(), "officer"))
    clean_end("nomination input (read_input JSON)", lambda p: nomination.read_input(p, "aro"),
              f, input_error=True)


@FUZZ
@given(data=st.builds(_nomination_doc).flatmap(lambda d: mutated(d, keep=("form",))))
def test_nomination_property(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    f = tmp_path_factory.mktemp("nom") / "in.json"
    f.write_bytes(data)
    clean_end("nomination input (read_input JSON)", lambda p: nomination.read_input(p, "aro"),
              f, input_error=True)


# --- offline bundles -------------------------------------------------------------------------

R1 = "O" + "0" * 29 + "1"  # a client reference of the outbox's format
REQ = {"format": offline.REQUEST_FORMAT, "environment": "test", "created": "2026-01-01",
       "requests": [{"ref": R1, "kind": "org-csr", "file": f"{R1}.csr", "sha256": "0" * 64}]}
ANS = {"format": offline.ANSWER_FORMAT, "environment": "test", "created": "2026-01-01",
       "request": {"manifest_sha256": "0" * 64, "refs": [R1]},
       "answers": [{"ref": R1, "state": "done", "server_id": "1", "server_status": "x",
                    "error": None, "file": f"{R1}.result", "sha256": "0" * 64}]}


def _bundle(folder: Path, manifest: bytes, extra: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "manifest.json.p7s").write_bytes(b"\x30\x03\x02\x01\x01")
    for name, data in (extra or {}).items():
        (folder / name).write_bytes(data)
    return folder


def _verify(raw: bytes, sig: bytes) -> None:
    """The signature checked for integrity only (who may sign is the services' rule)."""
    from smki_desktop.crypto.cms import verify_detached

    verify_detached(raw, sig)


def _read_both(folder: Path) -> None:
    clean_end("offline request bundle", lambda p: offline.read_request_bundle(
        p, Environment.TEST), folder)
    clean_end("offline answer bundle", lambda p: offline.read_answer_bundle(
        p, Environment.TEST, _verify), folder)


@pytest.mark.parametrize("label,data", JSON, ids=_ids(JSON))
def test_offline_bundle_corpus(label: str, data: bytes, tmp_path: Path) -> None:
    _read_both(_bundle(tmp_path / "b", data))


@pytest.mark.parametrize("entry", [
    {"ref": "r1"}, {"file": "../../../etc/passwd", "ref": "x", "state": "done", "kind": "k",
                    "sha256": "0" * 64},
    {"file": "/etc/passwd", "ref": "x", "state": "done", "kind": "k"}, "a string", 7, None,
    {"ref": [], "state": {}, "kind": None, "file": 5},
])
def test_offline_bundle_entries(entry: object, tmp_path: Path) -> None:
    for base in (REQ, ANS):
        key = "requests" if base is REQ else "answers"
        doc = {**base, key: [entry]}
        _read_both(_bundle(tmp_path / f"b-{key}", json.dumps(doc).encode()))


@FUZZ
@given(data=mutated(REQ) | mutated(ANS))
def test_offline_bundle_property(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    _read_both(_bundle(tmp_path_factory.mktemp("bundle"), data, {f"{R1}.result": b"x",
                                                                  f"{R1}.csr": b"x"}))


# --- a defect the fuzzing found (fixed in crypto/device_csr.py) -------------------------------

def test_device_csr_with_unreadable_subject_is_a_finding() -> None:
    """cryptography parses a CSR's subject lazily: a malformed Name (an unknown tag, or a BIT
    STRING under another attribute type) raised out of the check instead of rejecting it."""
    der = corpus._der(corpus.seeds()["ok-org.csr.pem"])
    broken = bytearray(der)
    at = der.index(bytes.fromhex("060355040b"))  # the OU attribute's OID
    broken[at + 5] = 0xF3  # its string tag becomes a private constructed tag
    code, reason, *_ = check_device_csr(bytes(broken), ["ESME"])
    assert code == "subject" and "unreadable subject" in reason
    bad_oid = der.replace(bytes.fromhex("060355042d"), bytes.fromhex("060355aa2d"))
    code, reason, *_ = check_device_csr(bad_oid, ["ESME"])
    assert code == "subject", (code, reason)


@pytest.mark.parametrize("name,doc,key", [
    ("batch manifest (parse_manifest)", BATCH_MANIFEST, "total"),
    ("ADT profile (Profile.from_json)", _shipped("adt", "adt-file", "1.json"), "max_rows"),
    ("form schema (schema_from_json)", _shipped("forms", "aro-v1.json"), "version"),
])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_infinity_where_a_whole_number_is_expected(name: str, doc: dict, key: str,  # type: ignore[type-arg]
                                                   value: float) -> None:
    """Found by the long run: int(Infinity) raised OverflowError out of these parsers."""
    clean_end(name, JSON_PARSERS[name], json.dumps({**doc, key: value}).encode(),
              input_error=True)
