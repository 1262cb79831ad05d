"""The overwrite rule in the GUI face (issue 10): signing an ADT file whose signature files
exist asks first (the confirmation says what it replaces); Cancel writes nothing, Replace
passes `overwrite` to the same service entry point the CLI calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.adt import Page as AdtPage
from smki_desktop.services import adt as adt_service
from smki_desktop.services.adt import SignResult
from tests.integration.adt_support import assert_openssl_ok, make_aro


def _asked(qtbot, page: AdtPage, before: object) -> object:  # type: ignore[no-untyped-def]
    """Press Sign and wait for the summary the page shows (a new dialog)."""
    page.request_sign()
    qtbot.waitUntil(lambda: not page.busy and getattr(page, "confirmation", None)
                    not in (None, before), timeout=30_000)
    return page.confirmation  # type: ignore[attr-defined]


def _outputs(f: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in adt_service.default_paths(f)}


@pytest.mark.slow
def test_sign_asks_before_replacing_outputs(qtbot, window: MainWindow, adt_page,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    page, aro = adt_page
    f = tmp_path / "adt.csv"
    adt_service.write_template(page.ctx, f)
    page.open_file(f)
    qtbot.waitUntil(lambda: not page.busy and page.path == f, timeout=30_000)

    # nothing to replace: the usual summary, no question about existing files
    first = _asked(qtbot, page, None)
    assert "Replaces" not in first.plain  # type: ignore[attr-defined]
    first.confirm()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not page.busy and isinstance(page.last_result, SignResult),
                    timeout=60_000)
    assert_openssl_ok(f, page.last_result.signature, aro.root_pem)
    kept = _outputs(f)
    assert len(adt_service.signed_files(page.ctx)) == 1

    # the outputs exist: the summary names them; Cancel writes nothing
    second = _asked(qtbot, page, first)
    text = second.plain  # type: ignore[attr-defined]
    assert "Replaces" in text and f"{f.name}.p7s" in text and "replaced" in text
    assert second.confirm_button.text() == "&Replace and sign"  # type: ignore[attr-defined]
    second.reject()  # type: ignore[attr-defined]
    qtbot.wait(200)
    assert not page.busy
    assert _outputs(f) == kept
    assert len(adt_service.signed_files(page.ctx)) == 1

    # Replace: signed again over the old set (the service was told to overwrite)
    third = _asked(qtbot, page, second)
    third.confirm()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not page.busy and len(adt_service.signed_files(page.ctx)) == 2,
                    timeout=60_000)
    assert isinstance(page.last_result, SignResult), page.last_result
    assert _outputs(f) != kept
    assert_openssl_ok(f, page.last_result.signature, aro.root_pem)


@pytest.mark.slow
def test_sign_without_the_answer_is_refused_by_the_service(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path) -> None:
    """`sign()` without the officer's yes does not replace: the service refuses, as in the
    CLI without --overwrite, and nothing is written."""
    page = window.go_to("ADT")
    assert isinstance(page, AdtPage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    f = tmp_path / "adt.csv"
    adt_service.write_template(page.ctx, f)
    adt_service.sign_file(page.ctx, f, aro.key.key_id)
    kept = _outputs(f)
    page.open_file(f)
    qtbot.waitUntil(lambda: not page.busy and page.path == f, timeout=30_000)
    page.sign()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert "already exists" in page.summary.text(), page.summary.text()
    assert _outputs(f) == kept
    assert len(adt_service.signed_files(page.ctx)) == 1


@pytest.mark.slow
def test_quarantine_action_asks_before_replacing(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                 tmp_path: Path) -> None:
    """The same rule for the signed Action file: existing outputs are named in the summary;
    Cancel keeps them, Replace passes `overwrite` to the service."""
    from smki_desktop.core.adt.validate import render_csv
    from smki_desktop.gui.pages.quarantine import Page as QuarantinePage
    from smki_desktop.services.quarantine import ActionResult

    page = window.go_to("Quarantine")
    assert isinstance(page, QuarantinePage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    prof = adt_service.load_profile("quarantine-report")
    own = "90-B3-D5-1F-30-01-00-00"
    report = tmp_path / "report.csv"
    report.write_bytes(render_csv(prof, [
        (f"Q-{i:04d}", own, "IS", "1.1.1", f"req-{i}", f"2026-11-01T10:{i:02d}:00Z", "USER",
         str(100 + i)) for i in range(3)]))
    page.import_report(report)
    qtbot.waitUntil(lambda: page.report is not None and not page.busy, timeout=30_000)
    page.decide_shown("DELETE")
    out = tmp_path / "action.csv"
    out.write_bytes(b"an older Action file")

    page.request_action(out)
    dlg = page.confirmation  # type: ignore[attr-defined]
    assert "Replaces: action.csv" in dlg.plain
    dlg.reject()
    qtbot.wait(200)
    assert out.read_bytes() == b"an older Action file" and page.last_result is None

    page.request_action(out)
    assert page.confirmation is not dlg  # type: ignore[attr-defined]
    page.confirmation.confirm()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: isinstance(page.last_result, ActionResult), timeout=60_000)
    assert out.read_bytes() != b"an older Action file"
    assert_openssl_ok(out, page.last_result.signed.signature, aro.root_pem)  # type: ignore[union-attr]
