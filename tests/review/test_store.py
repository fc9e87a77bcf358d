"""The queue store on SQLite and PostgreSQL: migrations, idempotent intake, cases, lifecycle, events, audit."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import sharing.models  # noqa: F401  (the store holds the share log too: its tables are in Base)
from review.models import Base
from review.queue import Conflict, Forbidden, Invalid, NotFound, QueueFilter, ReviewQueue
from schemas import parse_record
from tests.review import samples
from tests.review.conftest import PASSWORD, Clock, People

MY_TABLES = {
    "subjects",
    "alerts",
    "alert_findings",
    "alert_blocks",
    "review_cases",
    "review_users",
    "review_decisions",
    "review_notes",
    "review_audit",
    "review_events",
}


def _tables(queue: ReviewQueue) -> set[str]:
    return set(sa.inspect(queue.engine).get_table_names())


def _alembic(queue: ReviewQueue, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from review.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with queue.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, command_name)(cfg, revision)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from review.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_migrations_from_empty_match_the_models_and_go_down_and_up(queue: ReviewQueue) -> None:
    assert MY_TABLES | {"findings", "registry_records"} <= _tables(queue)
    with queue.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], f"models and migrations differ: {diffs}"
    _alembic(queue, "downgrade", "0001")
    assert not MY_TABLES & _tables(queue)
    assert "findings" in _tables(queue)
    queue.migrate()  # the same path every process start takes
    assert MY_TABLES <= _tables(queue)
    queue.migrate()  # and again: a no-op


def test_one_subject_with_five_findings_is_one_alert(queue: ReviewQueue, loaded: dict[str, int]) -> None:
    alert = queue.summary(loaded["p-agency-1"])
    assert alert.finding_count == 5
    assert alert.severity == "high"
    assert alert.categories == ("discrimination", "fake_recruitment")
    assert "fake_recruitment.fee_demand" in alert.rules
    assert (alert.city, alert.source, alert.agency_name) == ("苏州", "58同城", samples.AGENCY["name"])
    assert len(loaded) == len(samples.RECORDS)


def test_redelivered_findings_and_subjects_never_make_a_second_alert(queue: ReviewQueue) -> None:
    found = samples.findings_for()
    records = [parse_record(r) for r in samples.RECORDS]
    queue.record([(r, found[r.id]) for r in records])
    before = samples.alert_ids(queue)
    counts = {sid: queue.summary(aid).finding_count for sid, aid in before.items()}
    everything = [f for fs in found.values() for f in fs]
    random.Random(4).shuffle(everything)
    assert queue.record_findings(everything) == []  # as Finding objects, shuffled
    assert queue.record_findings([f.to_dict() for f in everything]) == []  # as finding.v1 JSON
    assert queue.record_subjects(samples.RECORDS) == 0  # as JSON objects
    assert not queue.record_subject(records[0])
    assert samples.alert_ids(queue) == before
    assert {sid: queue.summary(aid).finding_count for sid, aid in before.items()} == counts


def test_findings_before_their_subject_get_its_fields_and_case_later(queue: ReviewQueue) -> None:
    found = samples.findings_for()
    queue.record_findings(found["p-dup-a"] + found["p-dup-b"])
    ids = samples.alert_ids(queue)
    assert queue.summary(ids["p-dup-a"]).title is None
    assert queue.summary(ids["p-dup-a"]).case_id is None
    queue.record_subjects([samples.BY_ID["p-dup-b"], samples.BY_ID["p-dup-a"]])
    a, b = queue.summary(ids["p-dup-a"]), queue.summary(ids["p-dup-b"])
    assert a.title == "急招仓库理货员" and b.source == "BOSS直聘"
    assert a.case_id is not None and a.case_id == b.case_id and a.case_count == 2


def test_a_finding_added_later_grows_the_alert_and_says_so(queue: ReviewQueue, people: People) -> None:
    found = samples.findings_for()["p-agency-1"]
    queue.record([(samples.BY_ID["p-agency-1"], found[:2])])
    (alert_id,) = samples.alert_ids(queue).values()
    assert queue.summary(alert_id).finding_count == 2
    assert queue.record_findings(found) == [alert_id]
    assert queue.summary(alert_id).finding_count == 5
    assert [h.action for h in queue.history(alert_id)] == ["findings_added"]


@pytest.mark.parametrize("one_batch", [True, False])
def test_near_identical_postings_across_sources_and_the_same_agency_are_one_case(
    queue: ReviewQueue, one_batch: bool
) -> None:
    found = samples.findings_for()
    pairs = [(samples.BY_ID[s], found[s]) for s in samples.BY_ID]
    if one_batch:
        queue.record(pairs)
    else:
        for pair in pairs:
            queue.record([pair])
    ids = samples.alert_ids(queue)
    dup_a, dup_b = queue.summary(ids["p-dup-a"]), queue.summary(ids["p-dup-b"])
    assert dup_a.case_id == dup_b.case_id is not None
    assert (dup_a.case_kind, dup_a.case_count) == ("near_duplicate", 2)
    ag1, ag2 = queue.summary(ids["p-agency-1"]), queue.summary(ids["p-agency-2"])
    assert ag1.case_id == ag2.case_id is not None and ag1.case_id != dup_a.case_id
    assert (ag1.case_kind, ag1.case_count) == ("agency", 2)
    assert queue.summary(ids["p-gender"]).case_id is None  # shares an employer and words, not the text
    info, members = queue.case(ag1.case_id)
    assert info["count"] == 2 and {m.subject_id for m in members} == {"p-agency-1", "p-agency-2"}
    page = queue.list_alerts(QueueFilter(case_id=dup_a.case_id))
    assert {a.subject_id for a in page.items} == {"p-dup-a", "p-dup-b"}


def test_lifecycle_transitions_roles_and_reasons(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    alert_id = loaded["p-gender"]
    rev, sup = people.reviewer, people.supervisor
    started = queue.decide(alert_id, "start", rev)
    assert (started.status, started.assignee) == ("in_review", "rev")
    with pytest.raises(Invalid, match="reason"):
        queue.decide(alert_id, "dismiss", rev)
    with pytest.raises(Forbidden):
        queue.decide(alert_id, "confirm", people.auditor)
    confirmed = queue.decide(alert_id, "confirm", rev, note="写明了限男性")
    assert confirmed.status == "confirmed" and confirmed.decided_at == queue.clock()
    with pytest.raises(Conflict, match="cannot confirm an alert that is confirmed"):
        queue.decide(alert_id, "confirm", rev)
    with pytest.raises(Forbidden):
        queue.decide(alert_id, "share", rev, partners=["police"])
    assert queue.decide(alert_id, "escalate", rev).status == "escalated"
    with pytest.raises(Invalid, match="partners"):
        queue.decide(alert_id, "share", sup)
    shared = queue.decide(alert_id, "share", sup, partners=["market", "police"])
    assert shared.status == "shared"
    other = loaded["p-dup-a"]
    dismissed = queue.decide(other, "dismiss", rev, reason="duplicate")
    assert (dismissed.status, dismissed.dismiss_reason) == ("dismissed", "duplicate")
    reopened = queue.decide(other, "reopen", sup)
    assert (reopened.status, reopened.dismiss_reason, reopened.decided_at) == ("in_review", None, None)
    with pytest.raises(NotFound):
        queue.decide(999_999, "confirm", rev)
    with pytest.raises(NotFound):
        queue.decide(2**40, "confirm", rev)  # beyond the id column: not a database error
    with pytest.raises(Invalid, match="unknown action"):
        queue.decide(other, "approve", rev)
    actions = [h.action for h in queue.history(alert_id)]
    assert actions == ["start", "confirm", "escalate", "share"]


def test_a_stale_version_is_a_conflict(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    alert_id = loaded["p-gender"]
    version = queue.summary(alert_id).version
    queue.assign(alert_id, "rev", people.reviewer)
    with pytest.raises(Conflict, match="changed"):
        queue.decide(alert_id, "confirm", people.reviewer, expected_version=version)
    assert queue.decide(alert_id, "confirm", people.reviewer, expected_version=version + 1).status == "confirmed"


def test_decisions_write_review_events_to_the_outbox(
    queue: ReviewQueue, loaded: dict[str, int], people: People
) -> None:
    woken = []
    queue.on_event(lambda: woken.append(1))
    alert_id = loaded["p-agency-1"]
    queue.decide(alert_id, "start", people.reviewer)  # not a decision: no event
    assert queue.pending_events() == []
    queue.decide(alert_id, "confirm", people.reviewer)
    queue.decide(alert_id, "share", people.supervisor, partners=["police", "tax"])
    pending = queue.pending_events()
    assert [p.key for p in pending] == [str(alert_id)] * 2
    first, second = queue.events()
    assert first["schema"] == "review.v1" and first["decision"] == "confirm"
    assert (first["status"], first["previous_status"]) == ("confirmed", "in_review")
    assert first["subject"] == {"type": "job_posting", "id": "p-agency-1"}
    assert len(first["finding_ids"]) == 5 and "fake_recruitment" in first["categories"]
    assert first["case"]["kind"] == "agency" and first["decided_by"] == {"username": "rev", "role": "reviewer"}
    assert second["partners"] == ["police", "tax"] and second["decided_by"]["role"] == "supervisor"
    assert "description" not in str(first)  # ids only: no posting text, no personal data
    queue.mark_published([p.id for p in pending])
    assert queue.pending_events() == []
    assert len(woken) == 3


def test_filters(queue: ReviewQueue, clock: Clock, people: People) -> None:
    found = samples.findings_for()
    for sid in samples.BY_ID:  # one per hour, so the queue has an age order
        queue.record([(samples.BY_ID[sid], found[sid])])
        clock.advance(hours=1)
    ids = samples.alert_ids(queue)

    def subjects(**kw: object) -> set[str]:
        return {a.subject_id for a in queue.list_alerts(QueueFilter(**kw), people.reviewer).items}  # type: ignore[arg-type]

    assert subjects(category="personal_data") == {"p-idcard"}
    assert subjects(rule="discrimination.marital_childbearing") == {"p-agency-2"}
    assert subjects(city="苏州") == {"p-dup-a", "p-dup-b", "p-agency-1"}
    assert subjects(source="BOSS直聘") == {"p-dup-b"}
    assert subjects(agency="速聘") == {"p-agency-1", "p-agency-2"}
    assert subjects(agency="申通") == {"p-gender", "p-dup-a", "p-dup-b", "p-agency-1", "p-agency-2"}
    assert subjects(agency="%") == set()  # LIKE wildcards are literal
    assert subjects(severity="medium") == set()
    assert subjects(severity="high") == set(samples.BY_ID)
    queue.decide(ids["p-gender"], "confirm", people.reviewer)
    assert "p-gender" not in subjects()  # the default: open alerts
    assert subjects(status=("confirmed",)) == {"p-gender"}
    assert len(subjects(status=())) == 6
    queue.assign(ids["p-dup-a"], "rev", people.reviewer)
    assert subjects(assignee="me") == {"p-dup-a"}
    assert "p-dup-a" not in subjects(assignee="none")
    today = clock.now.date()
    assert len(subjects(date_from=today, date_to=today, status=())) == 6
    assert subjects(date_to=today.replace(year=2025)) == set()
    with pytest.raises(Invalid):
        QueueFilter(status=("bogus",))
    with pytest.raises(Invalid):
        QueueFilter(city="x\x00")


def test_ordering_by_severity_then_age_and_sla(queue: ReviewQueue, clock: Clock) -> None:
    found = samples.findings_for()
    order = ["p-gender", "p-idcard", "p-agency-2"]
    for sid in order:
        queue.record([(samples.BY_ID[sid], found[sid])])
        clock.advance(hours=1)
    ids = samples.alert_ids(queue)
    page = queue.list_alerts(QueueFilter(sort="severity"))
    assert [a.subject_id for a in page.items] == order  # all high: oldest first
    assert [a.subject_id for a in queue.list_alerts(QueueFilter(sort="newest")).items] == order[::-1]
    first = queue.summary(ids["p-gender"])
    assert first.due_at - first.created_at == __import__("datetime").timedelta(hours=72)
    assert first.sla(clock.now)[0] == "ok"
    clock.advance(hours=60)
    assert first.sla(clock.now)[0] == "due_soon"
    clock.advance(hours=20)
    state, text = first.sla(clock.now)
    assert state == "overdue" and text.startswith("超期")


def test_assignment_rules(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    alert_id = loaded["p-gender"]
    assert queue.assign(alert_id, "rev", people.reviewer).assignee == "rev"
    with pytest.raises(Forbidden):
        queue.assign(alert_id, "rev2", people.reviewer)
    with pytest.raises(Forbidden):
        queue.assign(alert_id, None, people.reviewer2)  # not theirs to release
    with pytest.raises(Forbidden):
        queue.assign(alert_id, "aud", people.auditor)
    with pytest.raises(NotFound):
        queue.assign(alert_id, "nobody", people.supervisor)
    with pytest.raises(Invalid):
        queue.assign(alert_id, "aud", people.supervisor)  # auditors do not review
    assert queue.assign(alert_id, "rev2", people.supervisor).assignee == "rev2"
    assert queue.assign(alert_id, None, people.reviewer2).assignee is None
    queue.decide(alert_id, "confirm", people.reviewer)
    with pytest.raises(Conflict):
        queue.assign(alert_id, "rev", people.reviewer)


def test_bulk_actions_succeed_or_fail_per_alert(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    queue.decide(loaded["p-gender"], "confirm", people.reviewer)
    result = queue.bulk([*loaded.values(), 424242], "dismiss", people.reviewer, reason="false_positive")
    assert len(result["done"]) == 5
    assert {f["code"] for f in result["failed"]} == {"invalid_transition", "alert_not_found"}
    assert queue.counts() == {"confirmed": 1, "dismissed": 5}
    with pytest.raises(Invalid):
        queue.bulk([], "confirm", people.reviewer)
    with pytest.raises(Invalid):
        queue.bulk(list(range(1, 502)), "confirm", people.reviewer)
    assert queue.bulk([loaded["p-gender"]], "assign", people.reviewer, assignee="rev")["failed"]


def test_notes(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    alert_id = loaded["p-gender"]
    queue.add_note(alert_id, "联系平台核实", people.reviewer)
    with pytest.raises(Invalid):
        queue.add_note(alert_id, "   ", people.reviewer)
    with pytest.raises(Invalid):
        queue.add_note(alert_id, "x" * 4001, people.reviewer)
    with pytest.raises(Forbidden):
        queue.add_note(alert_id, "审计意见", people.auditor)
    (entry,) = queue.history(alert_id)
    assert (entry.action, entry.actor, entry.detail) == ("note", "rev", {"note": "联系平台核实"})


def test_detail_is_masked_and_unmasking_is_for_supervisors_and_audited(
    queue: ReviewQueue, loaded: dict[str, int], people: People
) -> None:
    alert_id = loaded["p-idcard"]
    detail = queue.detail(alert_id, people.reviewer)
    text = "".join(s.text for v in detail.text_views for s in v.segments)
    assert samples.ID_A not in text and samples.ID_A not in str(detail.subject)
    assert samples.PHONE not in str(detail.subject) and samples.PHONE not in str(detail.structured)
    marked = [s.text for v in detail.text_views for s in v.segments if s.marks]
    assert marked == ["110105********1232", "320102********2342"]  # the evidence, highlighted in place
    with pytest.raises(Forbidden):
        queue.detail(alert_id, people.reviewer, unmask=True, reason="核查")
    with pytest.raises(Invalid):
        queue.detail(alert_id, people.supervisor, unmask=True, reason=" ")
    clear = queue.detail(alert_id, people.supervisor, unmask=True, reason="移送公安核查")
    assert [s.text for v in clear.text_views for s in v.segments if s.marks] == [samples.ID_A, samples.ID_B]
    assert samples.PHONE in str(clear.subject)
    actions = [(h.action, h.actor, h.detail) for h in queue.history(alert_id)]
    assert actions == [("view", "rev", {}), ("unmask", "sup", {"reason": "移送公安核查"})]


def test_the_audit_trail_is_append_only(queue: ReviewQueue, loaded: dict[str, int], people: People) -> None:
    queue.detail(loaded["p-gender"], people.reviewer)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), queue.engine.begin() as conn:
        conn.execute(sa.text("UPDATE review_audit SET actor = 'someone else'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), queue.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM review_audit"))
    with pytest.raises(Forbidden):
        queue.audit(people.reviewer)
    entries = queue.audit(people.auditor)
    assert [e.action for e in entries][:2] == ["view", "user_create"]
    assert queue.audit(people.auditor, record=False)[0].action == "audit_read"


def test_accounts_hash_passwords_and_audit_logins(queue: ReviewQueue, people: People) -> None:
    with queue.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM review_users WHERE username = 'rev'")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert queue.authenticate("rev", PASSWORD, "127.0.0.1") is not None
    assert queue.authenticate("rev", "wrong-password", "127.0.0.1") is None
    assert queue.authenticate("ghost", PASSWORD, "127.0.0.1") is None
    queue.set_user_active("rev", False, people.supervisor)
    assert queue.authenticate("rev", PASSWORD) is None
    assert queue.actor(people.reviewer.id or 0) is None
    with pytest.raises(Conflict):
        queue.create_user("sup", PASSWORD, "reviewer")
    with pytest.raises(Invalid):
        queue.create_user("short", "12345", "reviewer")
    with pytest.raises(Invalid):
        queue.create_user("x y", PASSWORD, "reviewer")
    with pytest.raises(Forbidden):
        queue.create_user("new1", PASSWORD, "reviewer", actor=people.reviewer)
    logins = [(e.action, e.actor) for e in queue.audit(people.auditor, record=False) if e.action.startswith("login")]
    assert logins == [("login_failed", "rev"), ("login_failed", "ghost"), ("login_failed", "rev"), ("login", "rev")]
