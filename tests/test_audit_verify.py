"""`audit verify` finds each kind of damage, even with the append-only triggers dropped first."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from engine.domain.errors import RuleViolation
from engine.reads.audit_verify import seal, verify
from tests.helpers.db_option import db_option
from tests.helpers import tamper
from tests.helpers.tamper import kinds, raw, rewrite_case
from tests.helpers.schema import downgrade

lived = tamper.lived      # the fixture


def test_an_untouched_log_verifies(lived):
    world, a, b = lived
    report = verify(world.app)
    assert report.intact, report.damage
    assert report.events > 40 and report.cases == 2 and report.evidence >= 8


def test_the_database_refuses_to_edit_or_delete_audit_events(lived):
    world, a, _ = lived
    postgresql = world.app.engine.dialect.name == "postgresql"
    seal(world.app, world["admin"])
    for statement in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events",
                      "UPDATE audit_checkpoints SET hash = 'x'"):
        with pytest.raises(Exception) as refused:
            with world.app.engine.begin() as conn:
                conn.execute(text(statement))
        # PostgreSQL: the application's role lost the privilege; SQLite: the trigger refuses.
        assert ("permission denied" if postgresql else "append-only") in str(refused.value)
    if postgresql:   # and with the privilege taken back, the trigger still refuses
        with world.app.engine.begin() as conn:
            conn.execute(text("GRANT UPDATE, DELETE ON audit_events TO CURRENT_USER"))
        with pytest.raises(Exception) as refused:
            with world.app.engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_events"))
        assert "append-only" in str(refused.value)


def test_a_changed_field_is_found_at_its_event(lived):
    world, a, _ = lived
    raw(world, f"UPDATE audit_events SET person_code = 'someone' WHERE case_id = {a} AND case_seq = 5")
    found = kinds(world)
    assert any(k == "changed" and w.startswith(f"case {a}, event 5 ") for k, w in found)


def test_a_deleted_event_is_found(lived):
    world, a, _ = lived
    raw(world, f"DELETE FROM audit_events WHERE case_id = {a} AND case_seq = 7")
    found = kinds(world)
    assert any(k == "missing" and w.startswith(f"case {a}, event 8 ") for k, w in found)
    assert any(k == "chain_broken" and w.startswith(f"case {a}, event 8 ") for k, w in found)


def test_an_inserted_event_is_found(lived):
    world, a, _ = lived
    raw(world, f"UPDATE audit_events SET case_seq = case_seq + 1000 WHERE case_id = {a} AND case_seq > 3",
        f"INSERT INTO audit_events (case_id, case_seq, at, person_code, person_name, action, evidence_hashes, "
        f"detail, hash) SELECT case_id, 4, at, 'forger', 'forger', 'step', '[]', '{{}}', hash FROM audit_events "
        f"WHERE case_id = {a} AND case_seq = 3",
        f"UPDATE audit_events SET case_seq = case_seq - 999 WHERE case_id = {a} AND case_seq > 1000")
    found = kinds(world)
    assert any(k == "changed" and w.startswith(f"case {a}, event 4 ") for k, w in found)


def test_a_forged_event_appended_with_a_correct_hash_and_the_case_head_moved_is_found(lived):
    """The attack the hash chain alone cannot see: a new last event, hashed right, chained right, the
    case's head and stage moved to match; only the MAC, by a key outside the database, gives it away."""
    from sqlalchemy import select

    from engine.adapters import tables as t
    from engine.domain.audit import event_hash
    world, a, _ = lived
    with world.app.engine.connect() as conn:
        last = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == a)
                            .order_by(t.audit_events.c.case_seq.desc())).first()
    seq = last.case_seq + 1
    raw(world, f"INSERT INTO audit_events (case_id, case_seq, at, person_id, person_code, person_name, role, "
               f"region_code, action, to_stage, reason, evidence_hashes, policy_version, detail, prev_hash, hash) "
               f"SELECT case_id, {seq}, at, person_id, person_code, person_name, role, region_code, 'step', "
               f"'removed', 'forged', '[]', policy_version, '{{}}', hash, 'x' FROM audit_events WHERE seq = {last.seq}")
    with world.app.engine.connect() as conn:         # hashed exactly as the engine would hash it
        row = conn.execute(select(t.audit_events).where(t.audit_events.c.hash == "x")).first()
    digest = event_hash(row._asdict())
    raw(world, f"UPDATE audit_events SET hash = '{digest}' WHERE seq = {row.seq}",
        f"UPDATE cases SET event_count = {seq}, last_event_hash = '{digest}', stage = 'removed' WHERE id = {a}")
    assert kinds(world) == {("unsigned", f"case {a}, event {seq} (seq {row.seq})"),        # no MAC, and a step
                            ("step_missing", f"case {a}, procedure None, step None")}     # event with no step row


def test_two_swapped_events_are_found(lived):
    world, a, _ = lived
    raw(world, f"UPDATE audit_events SET case_seq = -1 WHERE case_id = {a} AND case_seq = 5",
        f"UPDATE audit_events SET case_seq = 5 WHERE case_id = {a} AND case_seq = 6",
        f"UPDATE audit_events SET case_seq = 6 WHERE case_id = {a} AND case_seq = -1")
    found = kinds(world)
    assert any(k in ("changed", "order") and w.startswith(f"case {a}, event 5 ") for k, w in found)


def test_a_stage_changed_without_an_event_is_found(lived):
    world, _, b = lived
    raw(world, f"UPDATE cases SET stage = 'exited' WHERE id = {b}")
    assert ("stage_unaccounted", f"case {b}") in kinds(world)


def test_a_changed_or_missing_evidence_file_is_found(lived):
    world, a, _ = lived
    from sqlalchemy import select
    from engine.adapters import tables as t
    with world.app.engine.connect() as conn:
        sha = conn.execute(select(t.evidence.c.file_sha256).where(t.evidence.c.case_id == a,
                                                                 t.evidence.c.file_sha256.is_not(None))).scalar()
    path = world.app.evidence.path_for(sha)
    path.write_text("altered", encoding="utf-8")
    assert any(k == "evidence_file_changed" for k, _ in kinds(world))
    path.unlink()
    assert any(k == "evidence_file_missing" for k, _ in kinds(world))


def test_evidence_fields_changed_even_with_their_hash_redone_are_found(lived):
    world, a, _ = lived
    from engine.domain.evidence import content_hash
    fields = {"year": 2019, "net_income": 99999.0}
    raw(world, f"UPDATE evidence SET fields = '{{\"year\": 2019, \"net_income\": 99999.0}}', "
               f"content_hash = '{content_hash('income_assessment', fields, None)}' "
               f"WHERE case_id = {a} AND type = 'income_assessment'")
    assert any(k == "evidence_changed" and "income_assessment" in w for k, w in kinds(world))


def test_audit_verify_command_exits_1_on_damage_and_0_when_intact(lived, monkeypatch, capsys):
    import cli
    world, a, _ = lived
    home = str(world.app.settings.home)
    url = world.app.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    args = ["--home", home, *db_option(url), "--as", "insp", "audit", "verify"]
    assert cli.main(args) == 0
    raw(world, f"UPDATE audit_events SET reason = 'rewritten' WHERE case_id = {a} AND case_seq = 2")
    assert cli.main(args + ["--json"]) == 1
    assert f"case {a}, event 2 " in capsys.readouterr().out
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["vs"])
    assert cli.main(["--home", home, *db_option(url), "--as", "vs", "audit", "verify"]) == 1   # not an inspector


def test_a_whole_chain_rewrite_is_caught_against_a_published_head(lived):
    """Someone with the database rewrites a case's whole chain consistently: the MACs show it where the
    key file is at hand, the published head everywhere."""
    from engine.reads.audit_verify import head, seal
    world, a, _ = lived
    first = seal(world.app, world["admin"])
    assert first is not None and seal(world.app, world["admin"]) is None     # nothing new
    published = head(world.app)
    assert verify(world.app, published).intact
    rewrite_case(world, a)
    from engine.reads import audit_seal
    audit_seal.seal(world.app, world["admin"])   # the forger's own seal, checking nothing (ours refuses: test_seal50)
    forged = verify(world.app).damage                     # the forger could not make the MACs of the rewritten
    assert {d.kind for d in forged} == {"forged"} and dict(forged[0].params)["case_seq"] == 2   # events
    keys, world.app.keyring = world.app.keyring, None     # a reader without the key file:
    try:
        assert verify(world.app).intact                   # the rewritten log is consistent with itself...
        caught = verify(world.app, published).damage      # ...but not with the head published before
    finally:
        world.app.keyring = keys
    assert [d.kind for d in caught] == ["published_head"]
    said = dict(caught[0].params)       # the two heads whole: cut to 12 digits, they may read the same
    assert said["published"] == published[1] and len(said["found"]) == 64 and said["found"] != said["published"]


def test_witnesses_keep_each_signed_head_and_name_the_case_a_rewrite_changed(lived, tmp_path, monkeypatch):
    from engine.reads.audit_seal import check_witnesses, head_signature_valid, seal, signed_head, witnessed
    world, a, b = lived
    witness_file, witness_db = tmp_path / "witness.jsonl", f"sqlite:///{tmp_path / 'witness.db'}"
    monkeypatch.setenv("JINGZHUN_WITNESS", f"{witness_file},{witness_db}")
    seal(world.app, world["admin"])
    held = [entry for _w, entry in witnessed([str(witness_file), witness_db])]
    assert len(held) == 2 and held[0] == held[1] and head_signature_valid(held[0])
    assert held[0]["seq"] == signed_head(world.app)["seq"] and {c[0] for c in held[0]["cases"]} == {a, b}
    assert check_witnesses(world.app, [str(witness_file), witness_db]) == []
    rewrite_case(world, a)
    with pytest.raises(RuleViolation) as refused:         # the nightly seal will not seal the rewrite in: the
        seal(world.app, world["admin"])                   # witnesses hold a head this log does not continue
    assert refused.value.code == "audit.seal_witness_ahead" and refused.value.params["seq"] == held[0]["seq"]
    monkeypatch.delenv("JINGZHUN_WITNESS")
    seal(world.app, world["admin"])                       # a forger seals it in without the witnesses...
    found = check_witnesses(world.app, [str(witness_file)])
    assert [(d.kind, dict(d.params).get("case")) for d in found] == [("witness", a)]     # ...the witness names it
    with open(witness_file, "a", encoding="utf-8") as fh:       # a witness entry altered is found too
        fh.write(json.dumps({**held[0], "hash": "0" * 64}) + "\n")
    assert "witness_signature" in {d.code for d in check_witnesses(world.app, [str(witness_file)])}


def test_a_checkpoint_without_the_record_keys_signature_is_found(lived):
    from engine.reads.audit_seal import seal
    world, _, _ = lived
    row = seal(world.app, world["admin"])
    raw(world, f"UPDATE audit_checkpoints SET signature = NULL WHERE upto_seq = {row['upto_seq']}")
    assert kinds(world) == {("checkpoint_signature", f"checkpoint up to seq {row['upto_seq']}")}


def test_a_checkpoint_no_longer_matching_the_log_is_found(lived):
    from engine.reads.audit_verify import seal
    world, a, _ = lived
    seal(world.app, world["admin"])
    raw(world, f"DELETE FROM audit_events WHERE case_id = {a} AND case_seq = 3")
    assert "checkpoint" in {d.kind for d in verify(world.app).damage}


# --- the fast reading of the log gives what the plain one gave --------------------------------

TRICKY = ["plain", 'a "quoted" word', "back\\slash", "two\nlines\tand a tab", "control \x01 char", "中文理由 ✓",
          "percent %s %d %%", "line\u2028separator", "", None]


def test_the_canonical_form_is_byte_for_byte_the_json_dumps_form():
    import json
    from datetime import date, datetime, timedelta, timezone
    from engine.domain.audit import HASHED_FIELDS, canonical, json_default
    values = TRICKY + [0, -7, 2 ** 70, True, 1.5, float("nan"), datetime(2019, 3, 1, 2, 3, 4, 5),
                       datetime(2019, 3, 1, 10, tzinfo=timezone(timedelta(hours=8))), date(2019, 3, 1),
                       {"b": [1, {"z": None, "y": "户"}], "a": "\n"}, [], {}, [{"id": 3, "hash": "ab"}]]
    for i in range(len(values) * 3):
        fields = {k: values[(i * 7 + j * 3) % len(values)] for j, k in enumerate(HASHED_FIELDS) if (i + j) % 5}
        plain = json.dumps({k: fields.get(k) for k in HASHED_FIELDS}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=json_default).encode()
        assert canonical(fields) == plain


def _organisation_events(world, texts):
    """Organisation events (no case: chained after the organisation head) whose fields hold the given texts."""
    from datetime import datetime, timezone
    from engine.adapters import tables as t
    with world.app.unit_of_work() as uow:
        for i, text in enumerate(texts):
            evidence = [{"id": 999_000 + i, "hash": "0" * 64}] if i == 0 else None
            uow.append_org_event(world["admin"], "person_added", None, None,
                                 at=datetime(2019, 3, 1, 2, 0, 0, 123, timezone.utc),
                                 fields={"step_key": text if i % 2 else None, "reason": text,
                                         "evidence_hashes": evidence},
                                 note=text, n=i, nested={"b": [text], "a": 1.5})
    with world.app.engine.connect() as conn:
        return [r.seq for r in conn.execute(t.audit_events.select().where(t.audit_events.c.action == "person_added")
                                            .order_by(t.audit_events.c.seq.desc()).limit(len(texts)))][::-1]


def test_fields_that_need_escaping_hash_as_written_and_an_edit_is_still_found(lived):
    world, a, _ = lived
    seqs = _organisation_events(world, TRICKY)
    damage = verify(world.app).damage
    assert [d.kind for d in damage] == ["evidence_missing"]          # the made-up evidence reference only
    raw(world, f"UPDATE audit_events SET reason = 'a \"quoted\" word!' WHERE seq = {seqs[1]}",
        f"UPDATE audit_events SET reason = 'percent %s %d %' WHERE seq = {seqs[6]}",
        f"UPDATE audit_events SET person_name = 'x' WHERE seq = {seqs[2]}")
    found = kinds(world)
    expected = {f"(seq {s})" for s in (seqs[1], seqs[6], seqs[2])}
    changed = {w for k, w in found if k == "changed"}
    assert all(w.startswith("organisation event ") for w in changed)
    assert {w.split(" ", 3)[3] for w in changed} == expected


def test_a_field_that_cannot_be_read_is_reported_as_changed(lived):
    world, a, _ = lived
    if world.app.engine.url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL checks JSON and timestamps on the way in")
    raw(world, f"UPDATE audit_events SET detail = 'not json' WHERE case_id = {a} AND case_seq = 3",
        f"UPDATE audit_events SET at = 'yesterday' WHERE case_id = {a} AND case_seq = 4")
    changed = {w for k, w in kinds(world) if k == "changed"}
    assert any(w.startswith(f"case {a}, event 3 ") for w in changed)
    assert any(w.startswith(f"case {a}, event 4 ") for w in changed)


def test_worker_processes_report_exactly_what_one_process_does(lived, monkeypatch):
    import engine.reads.audit_verify as av
    from engine.reads.audit_verify import seal
    world, a, b = lived
    seal(world.app, world["admin"])
    raw(world, f"UPDATE audit_events SET reason = 'x' WHERE case_id = {a} AND case_seq = 4",
        f"DELETE FROM audit_events WHERE case_id = {b} AND case_seq = 6",
        f"UPDATE cases SET stage = 'exited' WHERE id = {b}")
    monkeypatch.setattr(av, "PARALLEL_FROM", 0)
    monkeypatch.setattr(av, "_processes", lambda: 2)
    alone, forked = verify(world.app, processes=1), verify(world.app)
    assert alone.damage and alone.damage == forked.damage
    assert (alone.events, alone.cases, alone.evidence) == (forked.events, forked.cases, forked.evidence)
    with world.app.engine.connect() as conn:
        assert len(av._case_ranges(conn, 2)) > 1                            # it did split the cases


def test_a_deleted_or_inserted_organisation_event_is_found_before_any_seal(world):
    """People, posts and configuration changes have no case: they form a chain of their own."""
    from engine.services.org import authenticate, revoke_role
    from tests.world import TOWNSHIP
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    revoke_role(world.app, admin, "tsec", "township_secretary", TOWNSHIP)
    assert verify(world.app).intact
    with world.app.engine.connect() as conn:
        seq, number = conn.execute(text("SELECT seq, case_seq FROM audit_events WHERE action = 'role_revoked'")).one()
    raw(world, f"DELETE FROM audit_events WHERE seq = {seq}")
    assert [(d.kind, d.where) for d in verify(world.app).damage] == [   # the head, and what the log now says
        ("case_head", "organisation events"), ("post_missing", f"person tsec, post township_secretary ({TOWNSHIP})")]
    # A later event continues from the head, so the gap shows in the chain itself.
    revoke_role(world.app, admin, "ts4", "township_staff", TOWNSHIP)
    kinds = {d.kind for d in verify(world.app).damage if "organisation" in d.where}
    assert {"missing", "chain_broken"} <= kinds
    assert number > 1


def test_a_rotated_key_is_recorded_and_both_keys_verify_their_events(lived):
    from engine.services.setup import rotate_record_key
    from engine.domain.errors import AuthError
    world, a, _ = lived
    old = world.app.keyring.key_id
    with pytest.raises(AuthError):
        rotate_record_key(world.app, world["vs"])
    public_key = rotate_record_key(world.app, world["admin"])
    assert world.app.keyring.key_id != old and len(world.app.keyring.keys) == 2
    world.household()                                     # events MACed by the new key
    assert verify(world.app).intact
    with world.app.engine.connect() as conn:
        recorded = conn.execute(text("SELECT public_key FROM record_keys ORDER BY event_seq")).scalars().all()
    assert recorded[-1] == public_key and len(recorded) == 2


def test_a_role_granted_with_raw_sql_grants_nothing(world):
    """An operator with the database inserts an administrator's role for a village secretary, then one
    that names a real event of hers: neither works, at once (not only at the next verify)."""
    from engine.domain.errors import AuthError
    from engine.services.org import authenticate, require_admin
    from engine.domain.regions import ROOT
    person = "(SELECT id FROM persons WHERE code = 'vs')"
    raw(world, f"INSERT INTO role_assignments (person_id, role, region_code, granted_at) "
               f"VALUES ({person}, 'admin', '{ROOT}', '2019-01-01 00:00:00')",
        f"INSERT INTO role_assignments (person_id, role, region_code, granted_at, event_seq, event_hash) "
        f"SELECT person_id, 'county_office_director', '360730000000', granted_at, event_seq, event_hash "
        f"FROM role_assignments WHERE person_id = {person}")
    actor = authenticate(world.app, "vs", world.tokens["vs"])
    assert [a.role for a in actor.assignments] == ["village_secretary"]
    with pytest.raises(AuthError):
        require_admin(world.app, actor, ROOT, "person grant")
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    assert [a.role for a in admin.assignments] == ["admin"]          # rows granted through the engine work


def test_an_older_home_upgraded_keeps_every_role_its_events_granted(world):
    """Migration 0012 finds the granting event of each existing assignment: nobody is locked out."""
    import migrations
    from engine.services.org import authenticate
    downgrade(world.app.engine, "0011")
    migrations.upgrade(world.app.engine)
    with world.app.engine.connect() as conn:
        missing = conn.execute(text("SELECT count(*) FROM role_assignments WHERE event_seq IS NULL")).scalar()
    assert missing == 0
    for code in ("admin", "vs", "cd", "insp"):
        assert authenticate(world.app, code, world.tokens[code]).assignments, code


@pytest.mark.parametrize("tamper, kind, where", [
    ("UPDATE role_assignments SET revoked_at = NULL WHERE role = 'township_secretary'",       # un-revoked
     "post_unrecorded", "person tsec, post township_secretary (360730100000)"),
    ("DELETE FROM role_assignments WHERE person_id = (SELECT id FROM persons WHERE code = 'cd')",
     "post_missing", "person cd, post county_office_director (360730000000)"),
    ("UPDATE persons SET token_hash = (SELECT token_hash FROM persons WHERE code = 'admin') WHERE code = 'vs'",
     "credential", "person vs"),
])
def test_posts_and_credentials_edited_in_the_database_are_found_by_person(world, tamper, kind, where):
    from engine.services.accounts import renew_token
    from engine.services.org import authenticate, revoke_role
    from tests.world import TOWNSHIP
    admin = authenticate(world.app, "admin", world.tokens["admin"])
    revoke_role(world.app, admin, "tsec", "township_secretary", TOWNSHIP)
    renew_token(world.app, world["vs"])                   # a token renewed by its holder: its event carries the digest
    assert verify(world.app).intact
    raw(world, tamper)
    assert [(d.kind, d.where) for d in verify(world.app).damage] == [(kind, where)]


def test_a_case_moved_to_another_village_in_the_database_is_found(lived):
    world, a, _ = lived
    raw(world, f"UPDATE cases SET region_code = '360730101201' WHERE id = {a}")
    assert kinds(world) == {("region_unaccounted", f"case {a}")}


def test_a_members_id_number_changed_in_the_database_is_found_on_its_case(lived):
    from workflows.household import update_member
    world, a, b = lived
    with world.app.engine.connect() as conn:
        number = conn.execute(text(f"SELECT id_number FROM household_members WHERE case_id = {b} "
                                   "AND relation <> 'head' LIMIT 1")).scalar()
    update_member(world.app, world["vs"], b, number, {"health": "长期慢性病"}, "体检发现")   # through the engine
    assert verify(world.app).intact
    raw(world, f"UPDATE household_members SET id_number = '110101199003077777' WHERE case_id = {a} "
               "AND relation = 'head'")
    assert kinds(world) == {("members_changed", f"case {a}")}


def test_every_append_only_trigger_of_a_fresh_home_is_known_and_a_dropped_one_is_found(world):
    from engine.reads.audit_projections import GUARDS, TRIGGER_QUERIES
    dialect = world.app.engine.dialect.name
    with world.app.engine.connect() as conn:
        present = set(conn.execute(text(TRIGGER_QUERIES[dialect])).scalars())
    assert present == set(GUARDS[dialect])              # a migration adding a guard adds it to GUARDS too
    raw(world, restore=False)                           # the triggers dropped, and left dropped
    found = {(d.kind, d.where) for d in verify(world.app).damage}
    dropped = {"sqlite": ("audit_checkpoints_no_delete", "audit_checkpoints_no_update", "audit_events_no_delete",
                          "audit_events_no_update", "responsibilities_no_delete", "responsibilities_no_update"),
               "postgresql": ("audit_checkpoints_no_change", "audit_events_no_change", "responsibilities_no_change")}
    given_back = {("privilege_granted", "table audit_checkpoints"), ("privilege_granted", "table audit_events")}  # raw's GRANT
    assert found == {("guard_missing", f"trigger {name}") for name in dropped[dialect]} | (
        given_back if dialect == "postgresql" else set())


def _step_of(world, case: int, step_key: str, last: bool = False) -> tuple[int, int]:
    with world.app.engine.connect() as conn:
        return conn.execute(text(f"SELECT id, procedure_id FROM steps WHERE case_id = {case} AND step_key = '{step_key}' "
                                 f"ORDER BY id {'DESC' if last else ''} LIMIT 1")).one()


def test_who_signed_and_who_answers_edited_in_the_database_are_found_by_case_and_step(lived):
    world, a, b = lived
    signed, procedure = _step_of(world, a, "county_approval")
    raw(world, f"UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = 'th') WHERE id = {signed}")
    assert kinds(world) == {("step_changed", f"case {a}, procedure {procedure}, step county_approval")}
    [told] = verify(world.app).damage                     # the step by its name to a reader, in either language
    assert "步骤 县级审批" in told.text and "county_approval" not in told.render(world.app.config.labels, "en")
    _gone, identified = _step_of(world, b, "announcement")
    raw(world, f"DELETE FROM steps WHERE id = {_gone}")
    assert ("step_missing", f"case {b}, procedure {identified}, step announcement") in kinds(world)


def test_a_person_named_responsible_swapped_in_the_database_is_found_by_case_and_procedure(lived):
    world, a, _ = lived
    _signed, procedure = _step_of(world, a, "county_approval", last=True)          # the exit, approved by ch
    raw(world, f"UPDATE responsibilities SET person_code = 'cd' WHERE procedure_id = {procedure} AND person_code = 'ch'")
    assert kinds(world) == {("responsible_changed", f"case {a}, procedure {procedure}")}


def test_a_replaced_key_file_shows_every_event_as_made_by_an_unknown_key(lived, tmp_path, monkeypatch):
    """Whoever swaps the key file for their own (to MAC forgeries) cannot make the old events verify."""
    from engine.adapters.keyring import load_keyring, new_key
    world, _, _ = lived
    monkeypatch.setenv("JINGZHUN_KEY_FILE", str(tmp_path / "theirs.key"))
    new_key(world.app.settings.home)
    ours, world.app.keyring = world.app.keyring, load_keyring(world.app.settings.home)
    try:
        found = verify(world.app).damage
    finally:
        world.app.keyring = ours
    assert found and {d.kind for d in found} == {"unknown_key"}


def test_verify_without_the_key_file_says_it_checked_hashes_only(lived, tmp_path, monkeypatch, capsys):
    """A copy of the database read where the key file is not: its hash chains still verify, but the
    inspector is told that the signatures were not checked (whoever holds the database could have
    recomputed the chains), not a bare 'intact'."""
    import cli
    world, _, _ = lived
    home = str(world.app.settings.home)
    url = world.app.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    args = ["--home", home, *db_option(url), "--as", "insp", "audit", "verify"]
    assert cli.main(args + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs_checked"] is True
    monkeypatch.setenv("JINGZHUN_KEY_FILE", str(tmp_path / "elsewhere.key"))     # no such file here
    assert cli.main(args + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs_checked"] is False
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "签名未核对" in out and "elsewhere.key" in out and "--against" in out
    assert cli.main(["--lang", "en", *args]) == 0
    assert "signatures not checked" in capsys.readouterr().out


def test_verify_against_a_published_head_without_the_key_file_says_what_the_head_proved(lived, tmp_path,
                                                                                          monkeypatch, capsys):
    """A restored copy verified against the head published before the loss, where the key file is
    not: it says the head agreed and what it proves (the events up to it; those after it by their
    hashes alone), not to use `--against`, which was given; a head that disagrees is damage."""
    import cli
    from engine.reads.audit_verify import head, seal
    from engine.services.exports import export_table
    world, _, _ = lived
    seal(world.app, world["admin"])
    seq, digest = head(world.app)
    url = world.app.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    args = ["--home", str(world.app.settings.home), *db_option(url), "--as", "insp", "audit", "verify", "--against"]
    assert cli.main(args + [f"{seq}:{digest}"]) == 0          # with the key file: the head's agreement said
    out = capsys.readouterr().out
    assert f"与公布的审计链头（序号 {seq}）一致" in out and "密钥文件" not in out and out.rstrip().endswith("完好")
    monkeypatch.setenv("JINGZHUN_KEY_FILE", str(tmp_path / "elsewhere.key"))     # no such file here
    assert cli.main(args + [f"{seq}:{digest}"]) == 0
    out = capsys.readouterr().out
    assert f"与公布的审计链头（序号 {seq}）一致" in out and "全部事件都在公布的链头（序号" in out
    assert "--against" not in out and "签名未核对" in out
    list(export_table(world.app, world["cd"], "cases", None, "csv")[1])       # an event after the head
    assert cli.main(args + [f"{seq}:{digest}"]) == 0
    out = capsys.readouterr().out
    assert f"序号 {seq} 及以前的事件已由公布的链头证明；其后的 1 条事件只核对了哈希链" in out
    assert "--against" not in out and "jingzhun --server 网址 audit verify" in out
    assert cli.main(["--lang", "en", *args, f"{seq}:{digest}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["published_head"] == {"seq": seq, "matched": True, "events_after": 1}
    assert cli.main(["--lang", "en", *args, f"{seq}:{digest}"]) == 0
    out = capsys.readouterr().out
    assert f"Agrees with the published audit head (seq {seq})" in out and "the later ones (1) were checked by their hash chains only" in out
    assert cli.main(args + [f"{seq}:{'0' * 64}"]) == 1                   # a head that disagrees
    out = capsys.readouterr().out
    assert "一致" not in out and "--against" not in out and "只核对了哈希链" in out and "已公布的链头不符" in out


def test_the_damage_is_told_in_english_to_an_english_reader(lived, monkeypatch, capsys):
    import re
    import cli
    world, a, _ = lived
    home = str(world.app.settings.home)
    url = world.app.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["insp"])
    raw(world, f"UPDATE audit_events SET reason = 'rewritten' WHERE case_id = {a} AND case_seq IN (2, 3)")
    assert cli.main(["--lang", "en", "--home", home, *db_option(url), "--as", "insp", "audit", "verify"]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("DAMAGE")]
    assert lines and any("event changed" in line for line in lines)
    assert len(lines) > 1 and f"{len(lines)} damages found" in out       # it said "2 damage found"
    assert not [line for line in lines if re.search(r"[\u4e00-\u9fff]", line)], lines
    assert not [line for line in lines if re.search(r"\b[a-z]+_[a-z_]+\b", line)], lines     # no raw codes
    assert cli.main(["--lang", "en", "--home", home, *db_option(url), "--as", "insp", "audit", "verify", "--json"]) == 1
    details = [d["detail"] for d in json.loads(capsys.readouterr().out)["damage"]]
    assert details and not [d for d in details if re.search(r"[\u4e00-\u9fff]", d)], details


def test_one_altered_file_that_many_evidence_items_use_is_one_finding(lived):
    """A scan reused by many households (the demo's signed confirmation): altered once, said once
    with how many other items use it, not once an item (1,615 identical lines in the demo)."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.evidence import content_hash
    world, a, b = lived
    with world.app.engine.connect() as conn:       # a's signed confirmation (the meetings' minutes are shared)
        sha = conn.execute(select(t.evidence.c.file_sha256).where(t.evidence.c.case_id == a,
                                                                 t.evidence.c.type == "household_confirmation")).scalar()
        other = conn.execute(select(t.evidence).where(t.evidence.c.case_id == b)).first()
    fields = json.dumps(other.fields, ensure_ascii=False).replace("'", "''")
    raw(world, f"UPDATE evidence SET file_sha256 = '{sha}', content_hash = "
               f"'{content_hash(other.type, other.fields, sha)}', fields = '{fields}' WHERE id = {other.id}")
    world.app.evidence.path_for(sha).write_text("altered", encoding="utf-8")
    files = [d for d in verify(world.app).damage if d.kind == "evidence_file_changed"]
    assert len(files) == 1 and "另有 1 份材料也使用这个文件" in files[0].text, files
