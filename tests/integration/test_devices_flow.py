"""Device batch workflows on a real Test context: generate → validate → package → results."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.services import devices


def test_generate_validate_package_small(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = devices.generate_test(ctx, 40, tmp_path / "gen", processes=1)
    assert gen.out.name == "test-devices.zip" and gen.keys_file is not None
    res = devices.validate(ctx, gen.out, processes=1)
    assert len(res.accepted) == 40 and not res.rejected
    pkg = devices.package(ctx, gen.out, tmp_path / "out", max_per_zip=25, processes=1)
    assert [p.name for p in pkg.files.zips] == [f"{pkg.batch_id}-part01.zip",
                                                f"{pkg.batch_id}-part02.zip"]
    assert pkg.files.counts == [20, 20]
    # validating the same source again: every key is now a duplicate of the packaged batch
    again = devices.validate(ctx, gen.out, processes=1)
    assert not again.accepted and {r.code for r in again.rejected} == {"duplicate-key"}


def test_device_certificates_imported_elsewhere_count_for_the_limit(ctx) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services.certificates import import_certificate

    fixtures = Path(__file__).parents[1] / "fixtures" / "dcc-test-pki" / "device"
    for name in ("00db123456789001-ds.pem", "00db123456789001-ka.pem"):
        import_certificate(ctx, (fixtures / name).read_bytes())
    keys, counts, _ = devices.known_keys(ctx)
    assert counts.get(bytes.fromhex("00DB123456789001")) == 2
    assert len(keys) == 2
