"""The browser-portal route end to end against the simulator as a separate process: the app
generates real Device CSRs and packages them (`smki devices package`), the zips are uploaded
the way a browser does (multipart/form-data over mutual TLS with the ARO's web-service client
credential), the simulator checks them and issues with its Device CA, the report and the
response zip are downloaded as files and imported with `smki devices import-response`. The
portal's refusals (not a zip, a tampered zip, a wrong manifest, too big, a zip from the Live
environment) are whole and give their reason; CSRs that fail the Device CSR profile are refused
one by one with theirs."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import ws_xml as W
from smki_desktop.crypto import device_csr as dc
from smki_desktop.portal.ws_client import ssl_context
from smki_desktop.resources_path import resource
from smki_desktop.services import devices, portal, repository, simulator_control
from smki_desktop.services.context import AppContext
from tests.integration.portal_helpers import enrolled, submissions


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


@pytest.fixture
def browser(ctx: AppContext, sim: simulator_control.SimulatorInfo) -> Iterator[httpx.Client]:
    """What the ARO's browser holds: the portal's address, its pinned server anchor and the
    ARO's own TLS client credential (from the keyring, as the app's web-service client uses)."""
    rec = portal.endpoint(ctx)
    tls = ssl_context(rec.endpoint.trust_anchor_pem, portal.client_tls(ctx))
    with httpx.Client(base_url=rec.endpoint.portal_url, verify=tls, timeout=120) as client:
        yield client


def _upload(client: httpx.Client, zip_path: Path, manifest: Path | None = None,
            data: bytes | None = None) -> httpx.Response:
    files = {"file": (zip_path.name, zip_path.read_bytes() if data is None else data,
                      "application/zip")}
    if manifest is not None:
        files["manifest"] = (manifest.name, manifest.read_bytes(), "application/json")
    return client.post("/portal/batch-upload", files=files)


def _download(client: httpx.Client, link: dict[str, str], folder: Path) -> Path:
    r = client.get(link["url"])
    assert r.status_code == 200, r.text
    m = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])
    assert m and m.group(1) == link["name"]
    folder.mkdir(exist_ok=True)
    path = folder / m.group(1)
    path.write_bytes(r.content)
    return path


def _refusal(r: httpx.Response, http: int = 400) -> W.ErrorResponse:
    assert r.status_code == http, r.text
    return W.ErrorResponse.parse(r.content)


def _package(cli_run, src: Path, out: Path, *extra: str, env: str = "test"  # type: ignore[no-untyped-def]
             ) -> dict[str, object]:
    pkg = cli_run("devices", "package", str(src), "--out", str(out), *extra, "--json", env=env)
    assert pkg.code == 0, pkg.err
    return pkg.json()  # type: ignore[no-any-return]


def test_packaged_zips_uploaded_issued_downloaded_and_imported(  # type: ignore[no-untyped-def]
        cli_run, ctx, sim, browser, tmp_path: Path) -> None:
    gen = cli_run("devices", "generate-test", "--count", "8", "--out", str(tmp_path / "g"),
                  "--discard-keys", "--json")
    assert gen.code == 0, gen.err
    pkg = _package(cli_run, tmp_path / "g" / "test-devices.zip", tmp_path / "out",
                   "--name", "upl", "--max-per-zip", "4")
    zips = [Path(str(z)) for z in pkg["zips"]]  # type: ignore[attr-defined]
    manifest = Path(str(pkg["manifest"]))
    assert [z.name for z in zips] == ["upl-part01.zip", "upl-part02.zip"]
    assert bf.batch_zip_environment(zips[0].read_bytes()) == "test"

    form = browser.get("/portal/batch-upload")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text

    answers = []
    for z in zips:
        r = _upload(browser, z, manifest)
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert [a["issued"] for a in answers] == [4, 4] and all(not a["refused"] for a in answers)
    again = _upload(browser, zips[0], manifest)  # the same zip twice is one request
    assert again.json()["request_id"] == answers[0]["request_id"]
    uploads = [s["outcome"] for s in submissions(sim)["submissions"] if s["kind"] == "upload"]
    assert uploads == ["new", "new", "replay"]

    issued: dict[str, int] = {}  # CSR file stem -> serial, from the downloaded response zips
    for a in answers:
        report = _download(browser, a["report"], tmp_path / "dl")
        resp = _download(browser, a["response_zip"], tmp_path / "dl")
        assert bf.parse_report(report.read_bytes()).request_id == a["request_id"]
        for m in bf.read_response_zip(resp.read_bytes()).members:
            issued[m.stem] = x509.load_der_x509_certificate(m.der).serial_number
        imp = cli_run("devices", "import-response", str(report), str(resp), "--json")
        assert imp.code == 0, imp.out + imp.err

    rows = devices.csr_rows(ctx)
    assert len(rows) == 8 and {r.status for r in rows} == {"issued"}
    assert {r.file_name[: -len(".csr")]: int(r.cert_serial, 16) for r in rows} == issued
    chain = (sim.state_dir / "ca-chain.pem").read_bytes()
    device_ca = next(c for c in x509.load_pem_x509_certificates(chain)
                     if c.subject.rfc4514_string() == "CN=E357")
    for row in rows:
        # the simulator's own records (its repository) hold the same certificate and serial
        found = repository.search(ctx, device_eui=row.device_eui).entries
        by_serial = {int(e.serial, 16): e for e in found}
        cert = x509.load_der_x509_certificate(by_serial[int(row.cert_serial, 16)]
                                              .certificate_der)
        cert.verify_directly_issued_by(device_ca)
    st = cli_run("devices", "status", "--json")
    (batch,) = st.json()["batches"]
    assert batch["state"] == "completed" and batch["counts"] == {"issued": 8}


def _rezip(src: Path, change: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(src) as zf:
        members = [(n, change.get(n, zf.read(n))) for n in zf.namelist()]
        comment = zf.comment
    return bf.build_zip(members, comment=comment)


def test_portal_refusals_give_their_reason(  # type: ignore[no-untyped-def]
        cli_run, ctx, live_ctx, sim, browser, tmp_path: Path) -> None:
    def generate(folder: str) -> Path:
        gen = cli_run("devices", "generate-test", "--count", "6", "--out",
                      str(tmp_path / folder), "--discard-keys", "--json")
        assert gen.code == 0, gen.err
        return tmp_path / folder / "test-devices.zip"

    src = generate("g")
    one = Path(str(_package(cli_run, src, tmp_path / "one", "--name", "one")["zips"][0]))  # type: ignore[index]
    split = _package(cli_run, generate("g2"), tmp_path / "split", "--name", "two",
                     "--max-per-zip", "3")
    part1 = Path(str(split["zips"][0]))  # type: ignore[index]
    manifest = Path(str(split["manifest"]))

    # not a zip
    e = _refusal(_upload(browser, tmp_path / "notes.zip", data=b"these are not CSRs\n"))
    assert e.error_code == "BU:NotZip" and "not a zip" in e.message

    # a zip damaged in transit: one member's compressed bytes changed (its CRC no longer agrees)
    raw = bytearray(one.read_bytes())
    with zipfile.ZipFile(one) as zf:
        info = zf.infolist()[1]
    body = info.header_offset + 30 + len(info.filename.encode()) + 5
    raw[body] ^= 0xFF
    e = _refusal(_upload(browser, one, data=bytes(raw)))
    assert e.error_code == "BU:Member" and info.filename in e.message \
        and "corrupt zip entry" in e.message

    # a part changed after packaging: the manifest's digest no longer matches
    with zipfile.ZipFile(part1) as zf:
        first = zf.namelist()[0]
    swapped = _rezip(part1, {first: bf.encode_csr_text(dc.generate_one(
        bytes.fromhex("00DB123456FFFF01"), dc.SIGNING, keep_key=False)[2])})
    e = _refusal(_upload(browser, part1, manifest, data=swapped))
    assert e.error_code == "MF:Digest" and "changed after packaging" in e.message
    # a manifest of another batch
    e = _refusal(_upload(browser, one, manifest))
    assert e.error_code == "MF:Part" and "one.zip is not a part of batch 'two'" in e.message
    # too big for the portal
    simulator_control.control(sim, "/_control/config", {"upload_max_bytes": 1000})
    try:
        e = _refusal(_upload(browser, one), 413)
    finally:
        simulator_control.control(sim, "/_control/config", {"upload_max_bytes": 48 << 20})
    assert e.error_code == "BU:TooBig" and "at most 1,000 bytes" in e.message

    # CSRs packaged in the Live environment (where the Party configured the hwType); not the
    # same ones: CSRs packaged in Test are Test's and Live rejects them
    live_src = generate("g-live")
    assert cli_run("party", "set", "--name", "Acme", "--party-id", "ACME", "--party-type",
                   "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF", env="live").code == 0
    live_profile = json.loads(resource("profiles", "live.json").read_text())
    live_profile["device"]["hw_type_oids"] = [dc.TEST_HW_TYPE]
    over = live_ctx.paths.env_dir / "profiles" / "live.json"
    over.parent.mkdir(parents=True, exist_ok=True)
    over.write_text(json.dumps(live_profile))
    live = _package(cli_run, live_src, tmp_path / "live", "--name", "lv", "--max-per-zip", "3",
                    env="live")
    live_zip = Path(str(live["zips"][0]))  # type: ignore[index]
    e = _refusal(_upload(browser, live_zip))
    assert e.error_code == "BU:Env" and "packaged in the 'live' environment" in e.message
    e = _refusal(_upload(browser, live_zip, Path(str(live["manifest"]))))
    assert e.error_code == "BU:Env" and "manifest is for the 'live' environment" in e.message

    # CSRs that fail the Device CSR profile are refused one by one, the others issued
    with zipfile.ZipFile(one) as zf:
        names = zf.namelist()
        der = bf.decode_base64_text(zf.read(names[0]))
    tampered = der[:-1] + bytes([der[-1] ^ 0x01])  # the signature's last byte
    other_hw = dc.generate_one(bytes.fromhex("00DB123456FFFF02"), dc.SIGNING,
                               hw_type="1.2.826.0.1.8641679.1.2.9.9", keep_key=False)[2]
    mixed = _rezip(one, {names[0]: bf.encode_csr_text(tampered),
                         names[1]: bf.encode_csr_text(other_hw)})
    r = _upload(browser, one, data=mixed)
    assert r.status_code == 200, r.text
    answer = r.json()
    refused = {x["file"]: x for x in answer["refused"]}
    assert refused[names[0]]["code"] == "CS:BadSig"
    assert "signature does not verify" in refused[names[0]]["reason"]
    assert refused[names[1]]["code"] == "CS:HwType" and "hwType" in refused[names[1]]["reason"]
    assert answer["issued"] == len(names) - 2
    report = bf.parse_report(browser.get(answer["report"]["url"]).content)
    codes = {ln.file_name: (ln.status, ln.error_code) for ln in report.lines}
    assert codes[names[0]] == (bf.ReportStatus.ERROR, "CS:BadSig")
    # nothing was issued for any refused upload
    assert [s["outcome"] for s in submissions(sim)["submissions"]
            if s["kind"] == "upload"] == ["new"]
