"""Retention and legal holds, with a frozen clock, on SQLite and PostgreSQL (seeded through the
real store and ingest code: read-only originals in the store, derived files beside them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import clock
from pipeline.batch.ingest import InboxEntry, store_original
from pipeline.cli import cli
from pipeline.config import Instance, resolve_instance
from pipeline.errors import InvalidRequestError, NotFoundError
from pipeline.flagging.windows import group_flags
from pipeline.nightly.retention import (
    PolicyError,
    RetentionPolicy,
    apply_retention,
    decide,
    lift_hold,
    parse_policy,
    place_hold,
)
from pipeline.records import AudioStream, Flag, MediaProbe, Segment, Transcription, Word
from pipeline.review.proxy import proxy_path
from pipeline.store import Store, current_actor, open_store
from pipeline.store.retention import RetentionFacts
from pipeline.store.review import QueueFilter
from pipeline.taxonomy import TAXONOMY

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
POLICY = RetentionPolicy(default_days=31, annotated_days=365, categories={"harm.domestic_abuse": 730})


@dataclass
class FrozenClock:
    """``clock.now`` for the tests: whatever time ``at`` says."""

    at: datetime = NOW

    def __call__(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Seeded:
    media_id: int
    sha256: str
    files: tuple[Path, ...]  # the original, speech audio, proxy and the proxy's lock file

    def gone(self) -> bool:
        return not any(f.exists() for f in self.files)

    def whole(self) -> bool:
        return all(f.is_file() for f in self.files)


@dataclass
class World:
    instance: Instance
    store: Store
    clock: FrozenClock
    inbox: Path

    def seed(self, name: str, *, days_old: float, categories: tuple[str, ...] = ("practice.validate",),
             quarantine: str | None = None, night: str = "") -> Seeded:
        """An original ingested ``days_old`` days before NOW, transcribed and flagged."""
        self.clock.at = NOW - timedelta(days=days_old)
        inbox = self.inbox / night
        inbox.mkdir(parents=True, exist_ok=True)
        src = inbox / name
        src.write_bytes(f"not really footage: {src}\n".encode() * 64)
        st = src.stat()
        stored = store_original(InboxEntry(src, name, "file", st.st_size, st.st_mtime_ns),
                                store_dir=self.instance.store_dir, tmp_dir=self.instance.tmp_dir)
        sha = stored.sha256
        media_id, created = self.store.add_original(
            sha, size=stored.size_bytes, store_path=str(stored.path.relative_to(self.instance.home)),
            inbox=str(inbox), name=name, mtime_ns=st.st_mtime_ns)
        assert created
        self.store.set_probe(media_id, MediaProbe("mov,mp4,m4a", 20.0, True, 320, 240,
                                                  (AudioStream(0, "aac", 1, 48000),)))
        proxy = proxy_path(self.instance, sha)
        wav, lock = proxy.with_name(f"{sha}.speech.wav"), proxy.with_suffix(".lock")
        proxy.parent.mkdir(parents=True, exist_ok=True)
        for derived in (wav, proxy, lock):
            derived.write_bytes(b"derived")
        self.store.set_audio(media_id, audio_path=str(wav.relative_to(self.instance.home)), track=0)
        if quarantine:
            self.store.quarantine(media_id, quarantine)
        else:
            words = (Word(1.0, 1.5, " he", 0.9), Word(1.5, 2.0, " hit", 0.9), Word(2.0, 2.5, " me", 0.9))
            seg = Segment(1.0, 2.5, " he hit me", words)
            self.store.save_transcript(media_id, Transcription((seg,), "en", 20.0, 0.1), model="tiny.en",
                                       model_sha256="0" * 64, settings={})
            flags = [Flag(c, TAXONOMY[c], 1.0 + i, 2.5 + i, "he hit me", "he hit me",
                          "trauma_informed@test", "test", 3) for i, c in enumerate(categories)]
            self.store.save_flags(media_id, flags, group_flags(flags, duration_s=20.0))
        self.clock.at = NOW
        return Seeded(media_id, sha, (stored.path, wav, proxy, lock))

    def annotate(self, seeded: Seeded, *, author: int, teaching: bool, submit: bool) -> int:
        """An annotation on the item's first review item; submitted by marking the item reviewed."""
        rows, _ = self.store.queue_page(QueueFilter(statuses=()), offset=0, limit=100)
        item = next(r.id for r in rows if r.media_id == seeded.media_id)
        note = self.store.add_annotation(
            media_id=seeded.media_id, review_item_id=item, author_id=author, start_s=0.5, end_s=3.0,
            labels=["good practice"], rating=4, feedback="calm and kind", teaching=teaching)
        if submit:
            assert self.store.claim_item(item, author)
            assert self.store.finish_item(item, author, status="reviewed")
        return note

    def apply(self, **kw):
        return apply_retention(self.instance, self.store, POLICY, actor="cli:test", **kw)

    def audit(self, action: str) -> list[tuple[str, str, str | None]]:
        rows, _ = self.store.audit_page(offset=0, limit=1000, action=action)
        return [(r.actor, r.object, r.detail) for r in reversed(rows)]


@pytest.fixture()
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    frozen = FrozenClock()
    monkeypatch.setattr(clock, "now", frozen)
    instance = resolve_instance(tmp_path / "home", db_url)
    return World(instance, open_store(db_url), frozen, tmp_path / "inbox")


def test_retention_deletes_what_is_past_its_time_and_keeps_the_rest(world: World) -> None:
    store = world.store
    tip = store.add_user("alice", role="tip", password_hash="x")
    old = world.seed("old.mp4", days_old=40)
    young = world.seed("young.mp4", days_old=10)
    held = world.seed("held.mp4", days_old=40)
    teaching = world.seed("teaching.mp4", days_old=900)
    teaching_draft = world.seed("teaching-draft.mp4", days_old=900)
    annotated_old = world.seed("annotated-old.mp4", days_old=400)
    annotated_young = world.seed("annotated-young.mp4", days_old=100)
    draft = world.seed("draft.mp4", days_old=40)
    abuse = world.seed("abuse.mp4", days_old=400, categories=("practice.validate", "harm.domestic_abuse"))
    abuse_older = world.seed("abuse-older.mp4", days_old=800, categories=("harm.domestic_abuse",))
    missed = world.seed("missed.mp4", days_old=400)
    quarantined = world.seed("quarantined.mp4", days_old=40, quarantine="no audio track")
    world.clock.at = NOW - timedelta(days=400)
    unreadable = store.record_unreadable(str(world.inbox), "link.mp4", "symlink refused")

    place_hold(store, "held.mp4", reason="IOPC referral 2026/114", actor="cli:officer")
    world.annotate(teaching, author=tip, teaching=True, submit=True)
    world.annotate(teaching_draft, author=tip, teaching=True, submit=False)  # a draft keeps nothing
    gone_note = world.annotate(annotated_old, author=tip, teaching=False, submit=True)
    world.annotate(annotated_young, author=tip, teaching=False, submit=True)
    world.annotate(draft, author=tip, teaching=False, submit=False)  # a draft is no annotation yet
    world.annotate(missed, author=tip, teaching=False, submit=True)
    store.add_missed_moment(missed.media_id, category="harm.domestic_abuse", start_s=1.0, end_s=2.0,
                            reviewer="alice")
    world.clock.at = NOW + timedelta(minutes=5)

    result = world.apply()

    gone = (old, teaching_draft, annotated_old, draft, abuse_older, quarantined)
    kept = (young, held, teaching, annotated_young, abuse, missed)
    expected = dict(zip([g.media_id for g in gone], [
        "default: 31 days", "default: 31 days", "annotated: 365 days", "default: 31 days",
        "category harm.domestic_abuse: 730 days", "default: 31 days"], strict=True))
    assert {d.media_id: d.rule for d in result.deleted} == expected
    assert [(d.media_id, d.kept_by, d.rule) for d in result.kept] == [
        (held.media_id, "legal hold", "default: 31 days"),
        (teaching.media_id, "teaching example", "annotated: 365 days"),
    ]
    assert [(d.media_id, d.rule) for d in result.extended] == [
        (annotated_young.media_id, "annotated: 365 days"),
        (abuse.media_id, "category harm.domestic_abuse: 730 days"),
        (missed.media_id, "category harm.domestic_abuse: 730 days"),
    ]
    assert (result.dry_run, result.skipped, result.errors) == (False, (), ())
    assert result.files_removed == 4 * len(expected)
    for seeded in gone:
        assert seeded.gone(), seeded
        media = store.get_media(seeded.media_id)
        assert (media.state, media.reason) == ("deleted", f"retention: {expected[seeded.media_id]}")
        assert store.load_segments(seeded.media_id) == []
    for seeded in kept:
        assert seeded.whole(), seeded
        assert store.get_media(seeded.media_id).state == "done"
        assert store.load_segments(seeded.media_id)
    assert store.get_media(unreadable).state == "quarantined"
    assert store.annotation_or_none(gone_note) is None
    assert {flag.media_id for flag, _sha in store.iter_flags()} == {k.media_id for k in kept}
    # The names stay, so the inbox copies are not ingested again.
    assert store.names_by_media()[old.media_id] == ["old.mp4"]

    assert [(t.media_id, t.sha256, t.deleted_at.replace(tzinfo=t.deleted_at.tzinfo or UTC), t.policy,
             t.actor) for t in store.tombstones()] == [
        (s.media_id, s.sha256, world.clock.at, expected[s.media_id], "cli:test") for s in gone
    ]
    assert world.audit("retention:delete") == [
        ("cli:test", f"media:{s.media_id}", f"sha256={s.sha256} rule={expected[s.media_id]}")
        for s in gone
    ]
    assert world.audit("retention:apply") == [
        ("cli:test", "retention", "policy built-in defaults: 6 deleted, 2 kept by legal hold or "
                                  "teaching example, 24 files removed"),
    ]
    assert store.verify_audit_chain()


def test_a_teaching_draft_keeps_nothing_and_a_submitted_mark_keeps_until_corrected(world: World) -> None:
    """Issue 14: a TIP claimed an item, saved a draft ticked "teaching example" and released
    it; retention then kept the footage for ever, though no trainer could see the draft."""
    from pipeline.review import items

    store = world.store
    tip = store.user_by_id(store.add_user("alice", role="tip", password_hash="x"))
    assert tip is not None
    kept, dropped = world.seed("kept.mp4", days_old=40), world.seed("dropped.mp4", days_old=40)
    rows, _ = store.queue_page(QueueFilter(statuses=()), offset=0, limit=100)
    item = {r.media_id: r.id for r in rows}
    mark = items.AnnotationInput(0.5, 3.0, ("good practice",), 4, "a model first response", True)
    for seeded in (kept, dropped):
        items.claim(store, tip, item[seeded.media_id])
        items.annotate(store, tip, item[seeded.media_id], mark)
        items.release(store, tip, item[seeded.media_id])

    assert [d.media_id for d in world.apply(dry_run=True).deleted] == [kept.media_id, dropped.media_id]

    # Submitted (the item marked reviewed), the mark keeps it, and says whose it is.
    items.claim(store, tip, item[kept.media_id])
    items.finish(store, tip, item[kept.media_id], status="reviewed")
    note = store.item_annotations(item[kept.media_id], viewer_id=tip.id)[0].annotation.id
    result = world.apply(dry_run=True)
    assert [d.media_id for d in result.deleted] == [dropped.media_id]
    assert [(d.media_id, d.kept_by, d.why) for d in result.extended] == [
        (kept.media_id, "longer rule", f"annotated: 365 days, until 2027-10-22: annotation {note} by "
         f"alice, submitted 2026-12-01; teaching example: annotation {note} by alice, submitted 2026-12-01"),
    ]
    # A correction without the mark: the version trainers see no longer keeps it.
    newer = items.edit_annotation(store, tip, note, items.AnnotationInput(
        0.5, 3.0, ("good practice",), 4, "a model first response", False))
    result = world.apply()
    assert [d.media_id for d in result.deleted] == [dropped.media_id]
    assert [(d.media_id, d.why) for d in result.extended] == [
        (kept.media_id, f"annotated: 365 days, until 2027-10-22: annotation {newer} by alice, "
                        "submitted 2026-12-01")]
    assert dropped.gone() and kept.whole()


def test_dry_run_lists_every_item_kept_beyond_the_default_with_the_reason_and_who(world: World) -> None:
    store = world.store
    tip = store.add_user("alice", role="tip", password_hash="x")
    old = world.seed("old.mp4", days_old=40)
    world.seed("young.mp4", days_old=10)
    held = world.seed("held.mp4", days_old=40)
    teaching = world.seed("teaching.mp4", days_old=900)
    annotated = world.seed("annotated.mp4", days_old=100)
    abuse = world.seed("abuse.mp4", days_old=400, categories=("harm.domestic_abuse",))
    missed = world.seed("missed.mp4", days_old=400)
    place_hold(store, "held.mp4", reason="IOPC referral 2026/114", actor="cli:officer")
    taught = world.annotate(teaching, author=tip, teaching=True, submit=True)
    noted = world.annotate(annotated, author=tip, teaching=False, submit=True)
    store.add_missed_moment(missed.media_id, category="harm.domestic_abuse", start_s=1.0, end_s=2.0,
                            reviewer="web:alice")
    base = ["--home", str(world.instance.home), "--db", store.url]
    (world.instance.home / "retention.yaml").write_text("categories:\n  harm.domestic_abuse: 730\n")

    dry = CliRunner().invoke(cli, [*base, "retention", "apply", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"would delete  media {old.media_id}  old.mp4  ingested 2026-10-22, 40 days ago  (default: 31 days)",
        f"kept  media {held.media_id}  held.mp4  past default: 31 days, kept by legal hold: placed by "
        "cli:officer on 2026-12-01: IOPC referral 2026/114",
        f"kept  media {teaching.media_id}  teaching.mp4  past annotated: 365 days, kept by teaching "
        f"example: annotation {taught} by alice, submitted 2026-12-01",
        f"kept  media {annotated.media_id}  annotated.mp4  100 days old, kept by annotated: 365 days, "
        f"until 2027-08-23: annotation {noted} by alice, submitted 2026-12-01",
        f"kept  media {abuse.media_id}  abuse.mp4  400 days old, kept by category harm.domestic_abuse: "
        "730 days, until 2027-10-27: flagged by rubric trauma_informed@test",
        f"kept  media {missed.media_id}  missed.mp4  400 days old, kept by category harm.domestic_abuse: "
        "730 days, until 2027-10-27: marked missed by web:alice",
        "dry run: 1 item would be deleted, 2 kept past their time (legal hold or teaching example); "
        "nothing changed",
    ]
    assert old.whole() and world.store.tombstones() == []


def test_dry_run_lists_what_would_go_and_changes_nothing(world: World) -> None:
    old = world.seed("old.mp4", days_old=40)
    young = world.seed("young.mp4", days_old=31)  # exactly 31 days: not older than the policy

    result = world.apply(dry_run=True)

    assert result.dry_run
    assert [(d.media_id, d.rule, d.name, round(d.age_days)) for d in result.deleted] == [
        (old.media_id, "default: 31 days", "old.mp4", 40)
    ]
    assert old.whole() and young.whole()
    assert world.store.get_media(old.media_id).state == "done"
    assert world.store.tombstones() == []
    assert world.audit("retention:") == [
        ("cli:test", "retention", "policy built-in defaults: 1 would be deleted, 0 kept by legal hold "
                                  "or teaching example, 0 kept beyond the default by a longer rule"),
    ]


def test_a_lifted_hold_lets_retention_delete_and_a_rerun_changes_nothing(world: World) -> None:
    store = world.store
    held = world.seed("held.mp4", days_old=60)
    place_hold(store, held.sha256[:8], reason="Subject access request 77", actor="cli:officer")
    with pytest.raises(InvalidRequestError, match="already on legal hold, placed by cli:officer"):
        place_hold(store, str(held.media_id), reason="again", actor="cli:officer")
    assert world.apply().deleted == () and held.whole()

    lift_hold(store, "held.mp4", actor="cli:officer", reason="request answered")
    first = world.apply()
    second = world.apply()

    assert [d.media_id for d in first.deleted] == [held.media_id]
    assert (second.deleted, second.files_removed) == ((), 0)
    assert held.gone()
    assert len(store.tombstones()) == len(world.audit("retention:delete")) == 1
    assert world.audit("hold:") == [
        ("cli:officer", f"media:{held.media_id}", "Subject access request 77"),
        ("cli:officer", f"media:{held.media_id}",
         "placed for: Subject access request 77; lifted: request answered"),
    ]
    with pytest.raises(InvalidRequestError, match=r"deleted by retention \(retention: default: 31 days\)"):
        place_hold(store, str(held.media_id), reason="too late", actor="cli:officer")


def test_a_run_stopped_after_the_database_change_is_finished_by_the_next(world: World) -> None:
    store = world.store
    old = world.seed("old.mp4", days_old=40)
    # What a run killed just after its transaction leaves: the item marked, no audit row, files.
    assert store.mark_deleted(old.media_id, policy="default: 31 days", actor="cli:killed",
                              annotated=False)
    assert old.whole()

    result = world.apply()

    assert (result.deleted, result.files_removed) == ((), 4)
    assert old.gone()
    assert world.audit("retention:delete") == [
        ("cli:killed", f"media:{old.media_id}", f"sha256={old.sha256} rule=default: 31 days"),
    ]
    assert len(store.tombstones()) == 1
    # The same bytes arriving again under a new name go back into the store; the next run
    # removes them without a second tombstone.
    stored = store_original(
        InboxEntry(world.inbox / "old.mp4", "copy.mp4", "file", 0, 0),
        store_dir=world.instance.store_dir, tmp_dir=world.instance.tmp_dir)
    assert stored.path == old.files[0] and stored.path.exists()
    assert world.apply().files_removed == 1
    assert not stored.path.exists()
    assert len(store.tombstones()) == 1


def test_an_item_held_after_it_was_planned_is_not_deleted(world: World) -> None:
    old = world.seed("old.mp4", days_old=40)
    world.store.add_legal_hold(old.media_id, reason="late hold", placed_by="cli:officer")
    # The decision was made without the hold; the deletion checks again under the row's lock.
    assert not world.store.mark_deleted(old.media_id, policy="default: 31 days", actor="cli:test",
                                        annotated=False)
    assert world.store.get_media(old.media_id).state == "done"


def _facts(*, annotated: bool = False, categories: tuple[str, ...] = (), days_old: float,
           held: bool = False, teaching: bool = False) -> RetentionFacts:
    return RetentionFacts(1, "a" * 64, "done", NOW - timedelta(days=days_old), "x.mp4", held,
                          teaching, annotated, categories)


@pytest.mark.parametrize("facts,rule,kept_by", [
    (_facts(days_old=31), None, None),
    (_facts(days_old=31.01), "default: 31 days", None),
    (_facts(days_old=30, annotated=True), None, None),
    (_facts(days_old=364, annotated=True), "annotated: 365 days", "longer rule"),
    (_facts(days_old=366, annotated=True), "annotated: 365 days", None),
    (_facts(days_old=700, categories=("harm.domestic_abuse",)), "category harm.domestic_abuse: 730 days",
     "longer rule"),
    (_facts(days_old=731, categories=("distress", "harm.domestic_abuse")),
     "category harm.domestic_abuse: 730 days", None),
    (_facts(days_old=40, categories=("distress",)), "default: 31 days", None),
    (_facts(days_old=5000, held=True), "default: 31 days", "legal hold"),
    (_facts(days_old=5000, teaching=True, annotated=True), "annotated: 365 days", "teaching example"),
])
def test_the_longest_applicable_rule_wins(facts: RetentionFacts, rule: str | None,
                                          kept_by: str | None) -> None:
    decision = decide(facts, POLICY, now=NOW)
    assert ((decision.rule, decision.kept_by) if decision else (None, None)) == (rule, kept_by)


BAD_POLICY = """\
default_days: 0
anotated_days: 365
categories:
  harm.domestc_abuse: 730
  distress: ten
  safeguarding.child: 2190
  not_a_category: 1
"""


BAD_POLICY_ERRORS = [
    "1: default_days: must be a whole number of days, 1 or more (not 0)",
    "4: categories[harm.domestc_abuse]: unknown category 'harm.domestc_abuse' "
    "(did you mean 'harm.domestic_abuse'?)",
    "5: categories[distress]: must be a whole number of days, 1 or more (not 'ten')",
    "7: categories[not_a_category]: unknown category 'not_a_category'; use a taxonomy id from rubrics/README.md",
    "2: anotated_days: unknown key (did you mean 'annotated_days'?)",
]


def test_a_bad_policy_lists_every_error_with_its_path() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(BAD_POLICY, source="retention.yaml")
    assert caught.value.errors == BAD_POLICY_ERRORS
    assert parse_policy("") == RetentionPolicy()
    with pytest.raises(PolicyError, match="retention.yaml: the file must hold a mapping"):
        parse_policy("- 31\n", source="retention.yaml")


def test_cli_apply_with_a_bad_policy_exits_2_with_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "retention.yaml"
    bad.write_text(BAD_POLICY)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "retention", "apply",
                                      "--policy", str(bad)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: {bad}:{e}" for e in BAD_POLICY_ERRORS]


def test_cli_apply_and_holds(world: World) -> None:
    old = world.seed("old.mp4", days_old=40)
    kept = world.seed("kept.mp4", days_old=40)
    base = ["--home", str(world.instance.home), "--db", world.store.url]
    run = CliRunner().invoke

    added = run(cli, [*base, "hold", "add", "kept.mp4", "--reason", "IOPC referral 2026/114"])
    assert (added.exit_code, added.output) == (0, f"media {kept.media_id} is on legal hold\n")
    listed = run(cli, [*base, "hold", "list"])
    assert listed.output == (f"{kept.media_id}\t{kept.sha256[:12]}\t2026-12-01 02:00\t"
                             f"{current_actor()}\tkept.mp4\tIOPC referral 2026/114\n")
    (world.instance.home / "retention.yaml").write_text("default_days: 35\n")
    applied = run(cli, [*base, "retention", "apply"])
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines() == [
        f"deleted  media {old.media_id}  old.mp4  ingested 2026-10-22, 40 days ago  (default: 35 days)",
        f"kept  media {kept.media_id}  kept.mp4  past default: 35 days, kept by legal hold: placed "
        f"by {current_actor()} on 2026-12-01: IOPC referral 2026/114",
        "1 item deleted, 4 files removed, 1 kept past their time (legal hold or teaching example)",
    ]
    assert world.store.tombstones()[0].policy == "default: 35 days"
    removed = run(cli, [*base, "hold", "remove", str(kept.media_id)])
    assert (removed.exit_code, removed.output) == (0, f"media {kept.media_id} is no longer on legal hold\n")
    dry = run(cli, [*base, "retention", "apply", "--dry-run"])
    assert dry.output.splitlines()[-1] == (
        "dry run: 1 item would be deleted, 0 kept past their time (legal hold or teaching example); "
        "nothing changed")
    assert kept.whole()


def test_cli_hold_errors_exit_2_with_one_clear_line(world: World) -> None:
    one = world.seed("same.mp4", days_old=1)
    two = world.seed("same.mp4", days_old=1, night="night2")  # another file, the same name
    base = ["--home", str(world.instance.home), "--db", world.store.url]
    run = CliRunner().invoke

    unknown = run(cli, [*base, "hold", "add", "nope.mp4", "--reason", "x"])
    assert (unknown.exit_code, unknown.output) == (2, (
        "error: no media item matches 'nope.mp4': give a media id, a SHA-256 (at least its first "
        "8 hex digits) or a file name it arrived under\n"))
    ambiguous = run(cli, [*base, "hold", "add", "same.mp4", "--reason", "x"])
    assert (ambiguous.exit_code, ambiguous.output) == (2, (
        f"error: 'same.mp4' matches more than one media item: media {one.media_id} (same.mp4), "
        f"media {two.media_id} (same.mp4); give the media id\n"))
    not_held = run(cli, [*base, "hold", "remove", str(one.media_id)])
    assert (not_held.exit_code, not_held.output) == (2, f"error: media {one.media_id} is not on legal hold\n")
    no_reason = run(cli, [*base, "hold", "add", str(one.media_id), "--reason", " "])
    assert (no_reason.exit_code, no_reason.output) == (
        2, "error: give the reason for the hold (a case or request reference)\n")
    with pytest.raises(NotFoundError):
        place_hold(world.store, "12345678", reason="x", actor="cli:test")


def test_retention_deletes_a_tips_speaker_corrections_with_the_footage(world: World) -> None:
    """A moved line holds transcript words and a speaker's name may be a role or a person's:
    both go when their footage goes (issue 16)."""
    from sqlalchemy import func, select, update

    from pipeline.store import schema
    from pipeline.store.speaker_tables import SpeakerMove, SpeakerName

    old = world.seed("old.mp4", days_old=40)
    with world.store.session() as s:
        s.execute(update(schema.Segment).where(
            schema.Segment.media_id == old.media_id).values(speaker="wearer"))
    world.store.move_line(old.media_id, 0, "speaker 2", by=1, review_item_id=None)
    world.store.rename_speaker(old.media_id, "speaker 2", "Caller", by=1, review_item_id=None)
    world.clock.at = NOW + timedelta(minutes=5)

    result = world.apply()

    assert [d.media_id for d in result.deleted] == [old.media_id]
    with world.store.session() as s:
        for table in (SpeakerMove, SpeakerName):
            assert s.scalar(select(func.count()).select_from(table)) == 0
