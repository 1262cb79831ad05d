"""`AnchorReading` (services/audit_reading.py): one keyring read of the audit anchor for the
proofs of one action, never kept past its block, read again once a record moved the head."""

from __future__ import annotations

import threading

from smki_desktop.services.audit_reading import AnchorReading


def _reading(values: list[str | None]) -> tuple[AnchorReading[str | None], list[int]]:
    reads: list[int] = []

    def load() -> str | None:
        reads.append(1)
        return values[len(reads) - 1]

    return AnchorReading(load), reads


def test_outside_a_block_every_proof_reads_the_keyring() -> None:
    r, reads = _reading(["a", "b"])
    assert (r.get(), r.get()) == ("a", "b")
    assert len(reads) == 2


def test_a_block_reads_once_at_its_first_proof_and_nothing_outlives_it() -> None:
    r, reads = _reading(["a", "b", "c"])
    with r.block():
        assert reads == []  # opening reads nothing
        assert (r.get(), r.get(), r.get()) == ("a", "a", "a")
        with r.block():  # nested: joins the open reading
            assert r.get() == "a"
    assert len(reads) == 1
    assert r.get() == "b"  # after the block: read afresh
    with r.block():
        assert r.get() == "c"


def test_no_anchor_is_a_reading_too() -> None:
    r, reads = _reading([None, "x"])
    with r.block():
        assert r.get() is None and r.get() is None
    assert len(reads) == 1


def test_a_record_written_in_the_block_makes_the_next_proof_read_again() -> None:
    r, reads = _reading(["a", "b"])
    with r.block():
        assert r.get() == "a"
        r.moved()
        assert r.get() == "b"
        assert r.get() == "b"
    assert len(reads) == 2


def test_a_block_is_its_threads_own() -> None:
    r, _reads = _reading(["main", "other", "other again"])
    seen: list[str | None] = []
    with r.block():
        assert r.get() == "main"
        t = threading.Thread(target=lambda: seen.extend([r.get(), r.get()]))
        t.start()
        t.join()
        assert r.get() == "main"
    assert seen == ["other", "other again"]
