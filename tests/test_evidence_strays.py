"""A killed `evidence add --file` leaves no half-copied file where stored files live; what is left is
cleared by the next store or reported by verify (issue 13's probe: temp files of hundreds of MB)."""
from __future__ import annotations

from engine.reads.audit_verify import stray_files, verify
from engine.services.case_actions import attach_evidence
from tests.world import photo


def test_copies_of_dead_processes_are_cleared_and_unnamed_files_reported(world, tmp_path):
    case = world.household()
    incoming = world.app.evidence.root / ".incoming"
    incoming.mkdir(mode=0o700, exist_ok=True)
    left = incoming / "999999999-cut-short"              # no process has that id
    left.write_bytes(b"x" * 1000)
    assert stray_files(world.app) == ["evidence/.incoming/999999999-cut-short"]
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(photo("the signed form"))
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-01-09"}, scan)
    assert not left.exists()                              # the next store cleared it
    orphan = tmp_path / "orphan.pdf"
    orphan.write_bytes(b"%PDF-1.4 stored, then the attach was killed before it committed\n%%EOF")
    digest, _ = world.app.evidence.put(orphan)
    assert stray_files(world.app) == [f"evidence/{digest[:2]}/{digest}"]
    assert verify(world.app, processes=1).intact          # a stray is not damage to the record
