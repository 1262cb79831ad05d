"""Device CSR batch workflows, one module per user action:

- `source`     reading a folder, zip, CSV or single file of Device CSRs
- `validation` checking them (profile, signatures, batch rules, environment): `validate`
- `packaging`  writing the SMKI Portal batch zips and recording the batch: `package`
- `submission` one web-service batch through the portal layer's outbox (`submit`), and
               filing its results when finished (`collect`)
- `results`    filing the DCC's answer (portal report + response zip, or web-service results)
- `overview`   batches with pick-up warnings (`status`), the Device CSR rows (`csr_rows`)
- `export`     the rows of a view as CSV (audited), the reject report
- `testgen`    test devices (Test only)
- `settings`   the allowed device ranges

(The modules are named by noun so that no module is shadowed by the function re-exported
under the verb.)

Device CSR <-> certificate matching lives below this package, in `services/device_matching`
(certificate import uses it too). The CSR checks run in worker processes
(`crypto/device_csr.py`), the batch rules are in `core/device_batch.py`, the portal files in
`portal/upload.py`, the rows in `store/repos/devices.py`. Every action that changes something
writes an audit record. This module re-exports the entry points the faces and tests use.
"""

from __future__ import annotations

from smki_desktop.services.device_matching import (
    SEVERE_CODES,
    STATUS_WORDS,
    DeviceCsrMatch,
    device_profile,
    explain_error,
    file_device_certificate,
    hw_types,
    match_device_csr,
)
from smki_desktop.services.devices.export import (
    COLUMNS,
    ExportResult,
    ViewRow,
    export_rows,
    rows_csv,
    view_row,
    write_reject_report,
)
from smki_desktop.services.devices.overview import (
    PICKUP_WARN_DAYS,
    BatchStatus,
    CsrRow,
    batch_csrs,
    csr_rows,
    status,
)
from smki_desktop.services.devices.packaging import PICKUP_DAYS, PackageResult, package
from smki_desktop.services.devices.results import ImportResult, apply_batch_state, import_response
from smki_desktop.services.devices.settings import device_ranges, set_device_ranges
from smki_desktop.services.devices.source import SourceRead, read_source
from smki_desktop.services.devices.submission import SubmitResult, collect, submit
from smki_desktop.services.devices.testgen import (
    KEYS_FILE,
    TEST_DEVICE_BASE,
    TEST_DEVICE_LAST,
    GenerateResult,
    generate_test,
    next_test_eui,
    test_device_plan,
)
from smki_desktop.services.devices.validation import (
    COUNTED_STATES,
    PENDING_STATES,
    ValidationResult,
    known_keys,
    validate,
)

__all__ = [
    "COLUMNS", "COUNTED_STATES", "KEYS_FILE", "PENDING_STATES", "PICKUP_DAYS",
    "PICKUP_WARN_DAYS", "SEVERE_CODES", "STATUS_WORDS", "TEST_DEVICE_BASE", "TEST_DEVICE_LAST",
    "BatchStatus", "CsrRow", "DeviceCsrMatch", "ExportResult", "GenerateResult", "ImportResult",
    "PackageResult", "SourceRead", "SubmitResult", "ValidationResult", "ViewRow",
    "apply_batch_state", "batch_csrs", "collect", "csr_rows", "device_profile", "device_ranges",
    "explain_error", "export_rows", "file_device_certificate", "generate_test", "hw_types",
    "import_response", "known_keys", "match_device_csr", "next_test_eui", "package",
    "read_source", "rows_csv", "set_device_ranges", "status", "submit", "test_device_plan",
    "validate", "view_row", "write_reject_report",
]
