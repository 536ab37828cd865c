"""Issue 13 item 4: a CAB meeting is held when the coordinator says so or its time passed;
a chair's decision before it neither closes it nor makes the decider its chair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pob_tui.errors import PermissionDenied
from pob_tui.services import cab
from pob_tui.services.changes import records
from tests.test_cab import oslo
from tests.test_changes import NOW, actor, cw, new, submit  # noqa: F401


def test_decision_on_sunday_keeps_tuesday_open_with_its_chair(cw, backend) -> None:  # noqa: F811
    sunday = NOW - timedelta(days=1)
    early = new(cw, title="Early")
    submit(cw, early, now=sunday)
    with cw.db.session() as s:
        cab.decide(s, actor(cw, "carl"), early, "approve", now=sunday)
    later = new(cw, title="Submitted Monday before the cut-off")
    submit(cw, later, now=NOW)  # Monday 08:00; the cut-off is Monday 10:00
    with cw.db.session() as s:
        data = cab.agenda(s, "2026-11-24", now=NOW)
        assert data["meeting"]["status"] == "planned"
        assert data["meeting"]["chair"] == "Lars Nettmann"  # not the deciding agent
        assert [i["number"] for i in data["items"]] == [later, early] or \
            {i["number"] for i in data["items"]} == {early, later}
        assert records.get_change(s, early).status == "approved"

    with cw.db.session() as s, pytest.raises(PermissionDenied):
        cab.hold_meeting(s, actor(cw, "mia"), "2026-11-24", now=NOW)
    with cw.db.session() as s:
        mt = cab.hold_meeting(s, actor(cw, "carl"), "2026-11-24", now=NOW)
        assert mt.status == "held" and mt.starts_at == oslo(2026, 11, 24)
    third = new(cw, title="After the coordinator closed Tuesday")
    submit(cw, third, now=NOW + timedelta(minutes=30))
    with cw.db.session() as s:
        thursday = cab.agenda(s, "2026-11-26", now=NOW)
        assert [i["number"] for i in thursday["items"]] == [third]
        tuesday = cab.agenda(s, "2026-11-24", now=NOW)
        assert tuesday["meeting"]["chair"] == "Lars Nettmann"


def test_a_meeting_whose_time_passed_reads_held(cw, backend) -> None:  # noqa: F811
    number = new(cw)
    submit(cw, number, now=NOW)
    with cw.db.session() as s:
        assert cab.agenda(s, "2026-11-24", now=NOW)["meeting"]["status"] == "planned"
        after = oslo(2026, 11, 24, 13, 0)
        assert cab.agenda(s, "2026-11-24", now=after)["meeting"]["status"] == "held"
