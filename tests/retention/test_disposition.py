"""Retention: when records fall due (31 December / 1 January), holds, and a disposition nobody
can carry out alone: every refusal, then the full flows of destruction and transfer, and a
crash in the middle of an execution."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.errors import NotPermitted, Refused
from archive.fixity import audit_archive
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole, Record, User
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.users import Role, add_user, authenticate
from retention import disposition
from retention.disposition import Agency, approve, execute, propose
from retention.due import due_records
from retention.handover import transfer
from retention.holds import HoldKind, add_hold, release_hold
from retention.schedule import Action, load_schedule
from retention.transfer import verify_bag

SCHEDULE = load_schedule()
AGENCY = Agency("ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "Hòa Bình")
AFTER = date(2026, 12, 2)


def _seal(archive: Archive, name: str, series: str, closed: int, text: str = "") -> str:
    text = text or f"Nội dung công văn số {name}"
    return archive.seal(
        [
            IncomingFile(
                FileRole.ORIGINAL, "image/png", f"{name}.png", data=f"scan {name}".encode()
            ),
            IncomingFile(
                FileRole.OCR_TEXT, "text/plain; charset=utf-8", "t.txt", data=text.encode()
            ),
        ],
        Description(title=f"Công văn {name}", doc_number=f"{name}/UBND-VP", subject=f"V/v {name}"),
        Placement(AccessLevel.INTERNAL, series, closed),
        f"{name}.png",
    ).record_id


@pytest.fixture
def people(archive: Archive) -> dict[str, tuple[User, str]]:
    made = {}
    for name, role in [
        ("luu.tru", Role.ARCHIVIST),
        ("duyet.mot", Role.APPROVER),
        ("duyet.hai", Role.APPROVER),
        ("phap.che", Role.LEGAL),
        ("can.bo", Role.OFFICIAL),
    ]:
        made[name] = add_user(archive, name, role, AccessLevel.SECRET, "test")
    return made


@pytest.fixture
def records(archive: Archive) -> dict[str, str]:
    return {
        "old-letter": _seal(archive, "1", "CV", 2010),  # 10 years: due 2021-01-01
        "old-letter-2": _seal(archive, "2", "CV", 2012),  # due 2023-01-01
        "new-letter": _seal(archive, "3", "CV", 2020),  # due 2031-01-01
        "regulation": _seal(archive, "4", "QC", 2010),  # permanent; transfer due 2021-01-01
        "personnel": _seal(archive, "5", "HS-CB", 1950),  # 70 years: review
    }


def test_a_file_closed_in_2019_with_10_years_falls_due_on_1_january_2030(archive: Archive) -> None:
    record_id = _seal(archive, "9", "CV", 2019)
    assert due_records(archive, SCHEDULE, date(2029, 12, 31)) == []
    (due,) = due_records(archive, SCHEDULE, date(2030, 1, 1))
    assert (due.record_id, due.due_date, due.action) == (
        record_id,
        date(2030, 1, 1),
        Action.DESTROY,
    )


def test_due_lists_each_action_and_says_held(archive: Archive, records: dict[str, str]) -> None:
    add_hold(archive, HoldKind.RECORD, records["old-letter-2"], "vụ kiện 12/2026", "phap.che")
    due = {d.record_id: d for d in due_records(archive, SCHEDULE, AFTER)}
    assert (
        due[records["old-letter"]].action is Action.DESTROY and not due[records["old-letter"]].held
    )
    assert due[records["old-letter-2"]].held
    assert due[records["regulation"]].action is Action.TRANSFER
    assert due[records["personnel"]].action is Action.REVIEW
    assert records["new-letter"] not in due


def _proposed(archive: Archive, people: dict, action: Action = Action.DESTROY) -> int:
    return propose(archive, SCHEDULE, action, people["luu.tru"][0], AFTER).id


def test_a_proposal_leaves_out_held_records_and_marks_the_rest(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    add_hold(archive, HoldKind.SERIES, "CV", "thanh tra", "phap.che")
    with pytest.raises(Refused, match="no record is due"):
        _proposed(archive, people)
    release = add_hold(archive, HoldKind.RECORD, records["old-letter-2"], "vụ kiện", "phap.che")
    release_hold(archive, 1, "phap.che", "thanh tra xong")  # the series hold
    view = propose(archive, SCHEDULE, Action.DESTROY, people["luu.tru"][0], AFTER)
    assert view.records == [records["old-letter"]]
    assert archive.get(records["old-letter"], AccessLevel.SECRET).status == "xem-xet-huy"
    assert release.records == 1


def test_every_refusal_of_the_two_person_rule(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    list_id = _proposed(archive, people)
    archivist, first, second = people["luu.tru"][0], people["duyet.mot"][0], people["duyet.hai"][0]
    with pytest.raises(Refused, match="0 of the 2 approvals"):  # no approval
        execute(archive, SCHEDULE, list_id, archivist, AGENCY)
    with pytest.raises(Refused, match=r"proposed list .* cannot also approve"):
        approve(archive, list_id, archivist)
    approve(archive, list_id, first)
    with pytest.raises(Refused, match="already approved"):
        approve(archive, list_id, first)
    with pytest.raises(Refused, match="1 of the 2 approvals"):  # one approval
        execute(archive, SCHEDULE, list_id, archivist, AGENCY)
    approve(archive, list_id, second)
    assert disposition.get_list(archive, list_id).status == "approved"


def test_who_is_who_is_proven_by_the_key(archive: Archive, people: dict) -> None:
    key = people["duyet.mot"][1]
    other_key = people["duyet.hai"][1]
    assert authenticate(archive, "duyet.mot", key, "approve").name == "duyet.mot"
    with pytest.raises(NotPermitted, match=r"of user 'duyet\.mot'"):  # a key that is not theirs
        authenticate(archive, "duyet.mot", other_key, "approve")
    with pytest.raises(NotPermitted, match=r"of user 'ai\.do'"):  # unknown user, same message
        authenticate(archive, "ai.do", key, "approve")
    with pytest.raises(NotPermitted):
        authenticate(archive, "duyet.mot", None, "approve")
    with pytest.raises(NotPermitted, match="to approve takes the role approver"):  # wrong role
        authenticate(archive, "luu.tru", people["luu.tru"][1], "approve")
    with pytest.raises(NotPermitted, match="is official"):
        authenticate(archive, "can.bo", people["can.bo"][1], "propose")
    with archive.session() as session:
        stored = session.scalar(select(User).where(User.name == "duyet.mot"))
        assert stored is not None and key not in stored.key_sha256 and len(stored.key_sha256) == 64


def _approved(archive: Archive, people: dict, action: Action = Action.DESTROY) -> int:
    list_id = _proposed(archive, people, action)
    approve(archive, list_id, people["duyet.mot"][0])
    approve(archive, list_id, people["duyet.hai"][0])
    return list_id


def test_a_hold_put_after_approval_stops_the_execution(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    list_id = _approved(archive, people)
    add_hold(archive, HoldKind.RECORD, records["old-letter"], "yêu cầu của tòa án", "phap.che")
    with pytest.raises(Refused, match="under a legal hold"):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    assert archive.get(records["old-letter"], AccessLevel.SECRET).status == "xem-xet-huy"


def test_a_series_made_permanent_or_a_record_not_yet_due_stops_it(
    archive: Archive, records: dict[str, str], people: dict, tmp_path: Path
) -> None:
    list_id = _approved(archive, people)
    changed = tmp_path / "s.toml"
    changed.write_text(
        '[[series]]\ncode = "CV"\ntitle = "Công văn"\nperiod = "Vĩnh viễn"\naction = "review"\n'
    )
    with pytest.raises(Refused, match="permanent"):
        execute(archive, load_schedule(changed), list_id, people["luu.tru"][0], AGENCY)
    longer = tmp_path / "l.toml"
    longer.write_text(
        '[[series]]\ncode = "CV"\ntitle = "Công văn"\nperiod = "50 năm"\naction = "destroy"\n'
    )
    with pytest.raises(Refused, match="not due"):
        execute(archive, load_schedule(longer), list_id, people["luu.tru"][0], AGENCY)


def test_destruction_keeps_a_tombstone_a_log_entry_and_a_sealed_record_of_it(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    victim = records["old-letter"]
    files = {f.sha256 for f in archive.get(victim, AccessLevel.SECRET).files}
    list_id = _approved(archive, people)
    done = execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    assert sorted(done.destroyed) == sorted([records["old-letter"], records["old-letter-2"]])
    tombstone = archive.get(victim, AccessLevel.SECRET)
    assert tombstone.status == "destroyed" and tombstone.disposed_by == "luu.tru"
    assert {f.sha256 for f in tombstone.files} == files  # the hashes stay
    assert not any(archive.blobs.exists(sha) for sha in files)  # the files are gone
    assert tombstone.seal is not None and archive.blobs.exists(tombstone.seal.manifest_sha256)
    report = archive.get(done.report_record_id or "", AccessLevel.SECRET)
    assert report.series_code == "BB-HUY" and report.title.startswith("Biên bản hủy tài liệu")
    audit = audit_archive(archive, record_events=False)
    assert audit.ok, audit.all_problems()
    assert victim in (audit.log.disposed if audit.log else set())
    # Running it again changes nothing and makes no second record of destruction.
    again = execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    assert again.destroyed == [] and again.report_record_id == done.report_record_id


def test_a_crash_in_the_middle_of_execute_is_finished_by_running_it_again(
    archive: Archive, records: dict[str, str], people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_hold(archive, HoldKind.RECORD, records["regulation"], "x", "phap.che")  # not in the list
    list_id = _approved(archive, people)
    victims = disposition.get_list(archive, list_id).records
    assert len(victims) == 2
    real = disposition._destroy_one
    calls = 0

    def crash_on_second(*args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt("the power went out")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(disposition, "_destroy_one", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    states = {rid: archive.get(rid, AccessLevel.SECRET).status for rid in victims}
    assert sorted(states.values()) == ["destroyed", "xem-xet-huy"]  # each whole, or untouched
    # The one destroyed still has its files (they go after the list): said, until a rerun.
    destroyed = [rid for rid, state in states.items() if state == "destroyed"]
    assert audit_archive(archive, record_events=False).damaged == destroyed
    monkeypatch.setattr(disposition, "_destroy_one", real)
    done = execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    assert len(done.destroyed) == 1
    assert all(archive.get(rid, AccessLevel.SECRET).status == "destroyed" for rid in victims)
    assert disposition.get_list(archive, list_id).status == "executed"
    assert audit_archive(archive, record_events=False).ok


def test_transfer_writes_valid_bags_and_marks_the_records(
    archive: Archive, records: dict[str, str], people: dict, tmp_path: Path
) -> None:
    list_id = _approved(archive, people, Action.TRANSFER)
    assert disposition.get_list(archive, list_id).records == [records["regulation"]]
    bags = transfer(archive, SCHEDULE, list_id, people["luu.tru"][0], tmp_path / "nop-luu", AGENCY)
    (bag,) = bags
    verify_bag(bag)
    assert (bag / "data" / "evidence.zip").is_file() and (bag / "data" / "manifest.json").is_file()
    moved = archive.get(records["regulation"], AccessLevel.SECRET)
    assert moved.status == "transferred" and archive.blobs.exists(moved.files[0].sha256)
    # Again: nothing is written twice, nothing is marked twice.
    assert (
        transfer(archive, SCHEDULE, list_id, people["luu.tru"][0], tmp_path / "nop-luu", AGENCY)
        == bags
    )
    assert audit_archive(archive, record_events=False).ok


def test_a_transfer_list_needs_its_approvals_too(
    archive: Archive, records: dict[str, str], people: dict, tmp_path: Path
) -> None:
    list_id = _proposed(archive, people, Action.TRANSFER)
    with pytest.raises(Refused, match="approvals"):
        transfer(archive, SCHEDULE, list_id, people["luu.tru"][0], tmp_path / "out", AGENCY)
    assert not (tmp_path / "out").exists()


def test_a_record_is_on_one_open_list_at_a_time(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    """A record proposed for transfer stays active until handed over: a second proposal
    leaves it out while the first list is open, and takes it once that one is cancelled."""
    first = _proposed(archive, people, Action.TRANSFER)
    with pytest.raises(Refused, match="on an open disposal list already"):
        _proposed(archive, people, Action.TRANSFER)
    disposition.cancel(archive, first, people["duyet.mot"][0], "lập lại danh mục")
    again = propose(archive, SCHEDULE, Action.TRANSFER, people["luu.tru"][0], AFTER)
    assert again.records == [records["regulation"]]


def test_users_are_named_once(archive: Archive) -> None:
    from archive.errors import UsageError

    add_user(archive, "a.b", Role.VIEWER, AccessLevel.PUBLIC, "t")
    with pytest.raises(UsageError, match="already a user"):
        add_user(archive, "a.b", Role.ADMIN, AccessLevel.SECRET, "t")
    with pytest.raises(UsageError, match="one word"):
        add_user(archive, "Nguyễn Văn A", Role.ADMIN, AccessLevel.SECRET, "t")


def test_destroyed_records_leave_search_and_keep_no_text(
    home: ArchiveHome, records: dict[str, str], people: dict
) -> None:
    with Archive.open(home) as archive:
        list_id = _approved(archive, people)
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
        stamps = archive.record_stamps()
        assert records["old-letter"] not in stamps and records["new-letter"] in stamps
        record = archive.get(records["old-letter"], AccessLevel.SECRET)
        assert archive.text_of(record) == ""
        with archive.session() as session:
            assert session.get(Record, records["old-letter"]) is not None


def test_a_file_shared_with_a_living_record_is_kept(archive: Archive, people: dict) -> None:
    _seal(archive, "old", "CV", 2010, text="Giấy mời họp")
    living = _seal(archive, "new", "CV", 2020, text="Giấy mời họp")
    list_id = _approved(archive, people)
    execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    kept = archive.get(living, AccessLevel.SECRET)
    assert all(archive.blobs.exists(f.sha256) for f in kept.files)


def test_a_destroyed_record_is_no_search_hit_whatever_the_index_kept(
    home: ArchiveHome, records: dict[str, str], people: dict
) -> None:
    """The index is told first (``before_destroying``); and were it not, a search still
    never shows a destroyed record with the text the index kept of it."""
    from api.services import Services
    from search.contracts import SearchRequest

    with Services.open(home, catch_up_index=True) as services:

        def found() -> list[str]:
            asked = SearchRequest.of("noi dung cong van", AccessLevel.SECRET, limit=50)
            return [hit.record_id for hit in services.search(asked).hits]

        assert records["old-letter"] in found()
        list_id = _approved(services.archive, people)

        def refuse(_ids: list[str]) -> None:
            raise Refused("the index is busy")

        with pytest.raises(Refused):
            execute(services.archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY,
                    before_destroying=refuse)  # fmt: skip
        record = services.archive.get(records["old-letter"], AccessLevel.SECRET)
        assert record.status != "destroyed" and records["old-letter"] in found()
        told: list[str] = []
        execute(services.archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY,
                before_destroying=told.extend)  # fmt: skip
        assert records["old-letter"] in told
        # The index was not caught up: it still holds the destroyed records' text.
        assert records["old-letter"] in services.index.stamps()
        assert not set(told) & set(found())


def test_a_list_is_never_drawn_up_for_a_future_date(archive: Archive, people: dict) -> None:
    """CV keeps 10 years: closed in 2024, due 1 January 2035. A list 'as of' 2040 would mark
    it 'Xem xét hủy' and gather approvals for an execution that must refuse it: refused at
    once; what falls due by then is asked of due_records, which changes nothing."""
    from archive.errors import UsageError

    young = _seal(archive, "young", "CV", 2024)
    with pytest.raises(UsageError, match=r"after today .*'luutru retention due --as-of 2040"):
        propose(archive, SCHEDULE, Action.DESTROY, people["luu.tru"][0], date(2040, 1, 1))
    assert archive.get(young, AccessLevel.SECRET).status == "active"
    assert [d.record_id for d in due_records(archive, SCHEDULE, date(2040, 1, 1))] == [young]
    assert archive.get(young, AccessLevel.SECRET).status == "active"


def test_a_hold_put_while_a_list_is_carried_out_stops_it_there(
    archive: Archive, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _seal(archive, "1", "CV", 2010), _seal(archive, "2", "CV", 2011)
    list_id = _approved(archive, people)
    real, done = disposition._destroy_one, []

    def legal_acts_meanwhile(archive_, list_id_, record_id, by, approvers):  # type: ignore[no-untyped-def]
        if done:  # after the first record, a hold on the one still to go
            add_hold(archive_, HoldKind.RECORD, record_id, "vụ kiện 7/2026", "phap.che")
        done.append(record_id)
        return real(archive_, list_id_, record_id, by, approvers)

    monkeypatch.setattr(disposition, "_destroy_one", legal_acts_meanwhile)
    with pytest.raises(Refused, match="was put under a legal hold while list"):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    statuses = {rid: archive.get(rid, AccessLevel.SECRET).status for rid in (first, second)}
    assert statuses[done[0]] == "destroyed" and statuses[done[1]] != "destroyed"


def test_a_record_cannot_leave_a_held_series_by_an_edit(archive: Archive) -> None:
    from archive.revision import revise_record

    held = _seal(archive, "thu", "CV", 2010)
    add_hold(archive, HoldKind.SERIES, "CV", "thanh tra 2026", "phap.che")
    with pytest.raises(Refused, match="which hold 1 holds"):
        revise_record(archive, held, {"series_code": "GM"}, "phân loại lại", "luu.tru")
    revise_record(archive, held, {"title": "Thư công vụ"}, "sửa tên", "luu.tru")


def test_a_destruction_killed_before_its_files_went_is_said_and_finished_by_a_rerun(
    archive: Archive, records: dict[str, str], people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after a record's destruction committed, before its files were removed: the
    bytes that were to go are still there. Verify says so; running the list again ends it."""
    list_id = _approved(archive, people)

    def killed(*_args: object) -> int:
        raise KeyboardInterrupt("kill -9")

    monkeypatch.setattr(disposition, "_remove_blobs", killed)
    with pytest.raises(KeyboardInterrupt):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    monkeypatch.undo()
    victim = records["old-letter"]
    assert archive.get(victim, AccessLevel.SECRET).status == "destroyed"
    report = audit_archive(archive, record_events=False)
    assert victim in report.damaged
    problems = next(r.problems for r in report.records if r.record_id == victim)
    assert any(f"'luutru dispose execute {list_id}' again" in p for p in problems), problems
    execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    assert audit_archive(archive, record_events=False).ok


def test_a_destroyed_or_transferred_record_is_not_edited(
    archive: Archive, records: dict[str, str], people: dict, tmp_path: Path
) -> None:
    from archive.revision import revise_record

    destroyed = _approved(archive, people)
    execute(archive, SCHEDULE, destroyed, people["luu.tru"][0], AGENCY)
    moved = _approved(archive, people, Action.TRANSFER)
    transfer(archive, SCHEDULE, moved, people["luu.tru"][0], tmp_path / "nop-luu", AGENCY)
    for name, said, list_id in [("old-letter", "destroyed", destroyed),
                                ("regulation", "transferred", moved)]:  # fmt: skip
        record_id = records[name]
        sealed = archive.get(record_id, AccessLevel.SECRET).seal
        assert sealed is not None
        before = sealed.manifest_sha256
        pattern = rf"{record_id} was {said}.* on \d{{4}}-\d\d-\d\d .*under disposal list {list_id}"
        with pytest.raises(Refused, match=pattern):
            revise_record(archive, record_id, {"access": "secret"}, "chứa thông tin mật", "x")
        with pytest.raises(Refused, match=pattern):
            revise_record(archive, record_id, {"closed_year": 2025}, "sửa năm", "x")
        after = archive.get(record_id, AccessLevel.SECRET)
        assert after.access == "internal" and after.seal is not None
        assert after.seal.manifest_sha256 == before
    # What 'luutru edit' asks before the search index lets an access change's record go.
    from archive.revision import check_editable

    for name in ("old-letter", "regulation"):
        with pytest.raises(Refused, match=r"was (destroyed|transferred)"):
            check_editable(archive, records[name][:8])
    assert check_editable(archive, records["new-letter"]) == records["new-letter"]


def test_a_hold_is_released_with_who_and_why(archive: Archive, records: dict[str, str]) -> None:
    from archive.errors import UsageError
    from retention.holds import holds

    put = add_hold(archive, HoldKind.RECORD, records["old-letter"], "vụ kiện", "phap.che")
    with pytest.raises(UsageError, match=rf"say why hold {put.id} is released"):
        release_hold(archive, put.id, "phap.che", "  ")
    assert holds(archive, active_only=True)
    view = release_hold(archive, put.id, "phap.che", "tòa đã xử xong")
    assert (view.released_by, view.release_reason) == ("phap.che", "tòa đã xử xong")
    assert holds(archive, active_only=True) == []


def test_a_list_a_hold_blocks_is_cancelled_and_its_records_proposed_again(
    archive: Archive, records: dict[str, str], people: dict
) -> None:
    from archive.errors import UsageError

    list_id = _approved(archive, people)
    hold = add_hold(archive, HoldKind.RECORD, records["old-letter"], "vụ kiện 9/2026", "phap.che")
    with pytest.raises(Refused, match="under a legal hold"):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    approver = people["duyet.mot"][0]
    with pytest.raises(UsageError, match=f"say why list {list_id} is cancelled"):
        disposition.cancel(archive, list_id, approver, " ")
    view = disposition.cancel(archive, list_id, approver, "hồ sơ đang bị tòa án giữ")
    assert (view.status, view.cancelled_by, view.cancel_reason) == (
        "cancelled",
        "duyet.mot",
        "hồ sơ đang bị tòa án giữ",
    )
    for name in ("old-letter", "old-letter-2"):
        assert archive.get(records[name], AccessLevel.SECRET).status == "active"
    with pytest.raises(Refused, match=f"list {list_id} was cancelled on .* by duyet.mot"):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    with pytest.raises(Refused, match="can no longer be approved"):
        approve(archive, list_id, people["duyet.hai"][0])
    with pytest.raises(Refused, match="already cancelled"):
        disposition.cancel(archive, list_id, approver, "lần nữa")
    # Released from the dead list: proposed again, the held one left out until released.
    assert _proposed(archive, people) != list_id
    again = disposition.get_list(archive, list_id + 1)
    assert again.records == [records["old-letter-2"]]
    release_hold(archive, hold.id, "phap.che", "tòa đã xử xong")
    disposition.cancel(archive, again.id, approver, "gộp vào danh mục mới")
    assert sorted(_proposed_view(archive, people).records) == sorted(
        [records["old-letter"], records["old-letter-2"]]
    )


def _proposed_view(archive: Archive, people: dict) -> disposition.ListView:
    return propose(archive, SCHEDULE, Action.DESTROY, people["luu.tru"][0], AFTER)


def test_an_executed_or_half_carried_out_list_is_not_cancelled(
    archive: Archive, records: dict[str, str], people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    approver = people["duyet.mot"][0]
    list_id = _approved(archive, people)
    real, calls = disposition._destroy_one, []

    def crash_on_second(*args: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt("the power went out")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(disposition, "_destroy_one", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    monkeypatch.undo()
    with pytest.raises(
        Refused, match=rf"1 of 2 record\(s\) done.*'luutru dispose execute {list_id}'"
    ):
        disposition.cancel(archive, list_id, approver, "thôi")
    done = execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    with pytest.raises(Refused, match=f"record of destruction is {done.report_record_id}"):
        disposition.cancel(archive, list_id, approver, "thôi")
    assert disposition.get_list(archive, list_id).status == "executed"


def test_the_record_of_destruction_is_dated_in_vietnam_and_says_its_place_and_pages(
    archive: Archive, records: dict[str, str], people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carried out at 19:54 UTC on 4 December 2026, 02:54 on the 5th in Vietnam: the
    biên bản's text says the 5th, so its record's date (and closed year) does too."""
    import io
    from datetime import UTC, datetime

    import pikepdf

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime(2026, 12, 4, 19, 54, tzinfo=UTC).astimezone(tz)

    list_id = _approved(archive, people)
    monkeypatch.setattr(disposition, "datetime", Frozen)
    done = execute(archive, SCHEDULE, list_id, people["luu.tru"][0], AGENCY)
    report = archive.get(done.report_record_id or "", AccessLevel.SECRET)
    assert report.issued_date == date(2026, 12, 5) and report.closed_year == 2026
    assert report.place == "Hòa Bình"
    pdf = archive.blobs.read_bytes(report.files[0].sha256)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert report.page_count == len(document.pages) >= 3
