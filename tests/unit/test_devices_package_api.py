"""The split Devices service answers as the one module did: every entry point the faces, the
benchmarks and the tests use is re-exported by `services.devices`; the rooms stay small; and
the Device CSR <-> certificate matching sits below devices, portal and certificates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import smki_desktop.services.devices as devices
from smki_desktop.services import device_matching
from smki_desktop.services.devices import (
    export,
    overview,
    packaging,
    results,
    settings,
    source,
    submission,
    testgen,
    validation,
)

USED = {  # name -> the room it lives in
    "validate": validation, "package": packaging, "submit": submission,
    "collect": submission, "import_response": results, "apply_batch_state": results,
    "ImportResult": results, "status": overview, "csr_rows": overview,
    "batch_csrs": overview, "CsrRow": overview, "BatchStatus": overview,
    "generate_test": testgen, "KEYS_FILE": testgen, "read_source": source,
    "known_keys": validation, "ValidationResult": validation, "PackageResult": packaging,
    "SubmitResult": submission, "GenerateResult": testgen, "device_ranges": settings,
    "set_device_ranges": settings, "export_rows": export, "rows_csv": export,
    "view_row": export, "write_reject_report": export, "COLUMNS": export,
    "STATUS_WORDS": device_matching, "match_device_csr": device_matching,
    "file_device_certificate": device_matching, "DeviceCsrMatch": device_matching,
    "hw_types": device_matching, "device_profile": device_matching,
}


def test_public_api_is_re_exported() -> None:
    for name, room in USED.items():
        assert getattr(devices, name) is getattr(room, name), name
    assert set(devices.__all__) >= set(USED)
    assert all(hasattr(devices, n) for n in devices.__all__)


def test_rooms_are_small() -> None:
    for p in Path(devices.__file__).parent.glob("*.py"):
        assert len(p.read_text().splitlines()) < 400, p.name


def test_matching_imports_nothing_above_it() -> None:
    code = ("import sys; import smki_desktop.services.device_matching; "
            "print(','.join(m for m in sys.modules if m.startswith('smki_desktop.services.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(out.strip().split(","))
    assert not loaded & {"smki_desktop.services.devices", "smki_desktop.services.portal",
                         "smki_desktop.services.certificates"}, loaded


def test_certificates_does_not_import_devices() -> None:
    code = ("import sys; import smki_desktop.services.certificates; "
            "print('smki_desktop.services.devices' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
