"""The desk's use cases as single service calls (bulk assign, link or create a problem, the
detail screen's actions), the queue's sorts on both backends (NULL due times last), and the
one lookup each for services and CIs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import get_type_hints

import pytest
from sqlalchemy import func, select, update

from pob_tui.errors import ConflictError, InvalidInput, NotFound, PermissionDenied
from pob_tui.models import ConfigItem, FollowUp, Incident, Problem, Service, TicketEvent
from pob_tui.services import incident_actions as actions
from pob_tui.services import incidents as svc
from pob_tui.services import problems
from pob_tui.services.catalog import find_service
from pob_tui.services.cmdb import find_ci
from pob_tui.services.desk_views import queue_page
from pob_tui.services.incident_views import (
    QUEUE_SORTS,
    SORTS,
    IncidentDetail,
    compare_rows,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def log(world, n: int = 1, **kw) -> list[str]:
    out = []
    with world.db.session() as s:
        for i in range(n):
            data = dict(caller="kari.n", service="M365", summary=f"Sak {i}") | kw
            out.append(svc.create_incident(s, world.anne, svc.NewIncident(**data),
                                           now=NOW + timedelta(minutes=i)).number)
    return out


def incident(world, number: str) -> Incident:
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        s.expunge(inc)
        return inc


# --- bulk assign ---------------------------------------------------------------------------

def test_assign_many_assigns_each_with_its_audit(world) -> None:
    numbers = log(world, 3)
    with world.db.session() as s:
        n = svc.assign_many(s, world.anne, [numbers[0], numbers[1].lower(), numbers[0]],
                            team="NETT", now=NOW)
    assert n == 2  # the same incident twice counts once
    assert {incident(world, x).status for x in numbers[:2]} == {"assigned"}
    assert incident(world, numbers[2]).status == "new"
    with world.db.session() as s:
        kinds = s.execute(select(TicketEvent.ticket_id).where(
            TicketEvent.kind == "assignment", TicketEvent.field == "team_id")).scalars().all()
    assert len(kinds) == 2


def test_assign_many_is_all_or_nothing(world) -> None:
    numbers = log(world, 2)
    with pytest.raises(NotFound), world.db.session() as s:
        svc.assign_many(s, world.anne, [numbers[0], "INC-999999", numbers[1]], to_me=True,
                        now=NOW)
    assert {incident(world, x).assignee_id for x in numbers} == {None}


def test_assign_many_needs_the_role_and_some_incidents(world) -> None:
    numbers = log(world, 1)
    viewer = replace(world.anne, roles=frozenset({"cab_member"}))
    with pytest.raises(PermissionDenied), world.db.session() as s:
        svc.assign_many(s, viewer, numbers, to_me=True)
    with pytest.raises(InvalidInput), world.db.session() as s:
        svc.assign_many(s, world.anne, [" "], to_me=True)


# --- link, or create the problem -----------------------------------------------------------

def test_link_or_create_opens_the_problem_from_the_first_incident(world) -> None:
    numbers = log(world, 3)
    with world.db.session() as s:
        linked = problems.link_or_create(s, world.anne, numbers, title="Outlook fryser",
                                         now=NOW)
    assert linked.created and linked.changed == 3 and linked.problem == "PRB-000002"
    with world.db.session() as s:
        prb = problems.get_problem(s, linked.problem)
        first = svc.get_incident(s, numbers[0])
        assert prb.service_id == first.service_id and prb.team_id == first.team_id
        linked_ids = s.execute(select(Incident.number).where(
            Incident.problem_id == prb.id)).scalars().all()
    assert sorted(linked_ids) == numbers


def test_link_or_create_to_an_existing_problem_counts_only_changes(world) -> None:
    numbers = log(world, 2)
    with world.db.session() as s:
        problems.link_incidents(s, world.anne, "PRB-000001", numbers[:1], now=NOW)
    with world.db.session() as s:
        linked = problems.link_or_create(s, world.anne, numbers, problem="prb-000001",
                                         title="ignored: a number wins", now=NOW)
    assert (linked.problem, linked.created, linked.changed) == ("PRB-000001", False, 1)


def test_link_or_create_refuses_without_a_target_and_writes_nothing_on_error(world) -> None:
    numbers = log(world, 1)
    with pytest.raises(InvalidInput), world.db.session() as s:
        problems.link_or_create(s, world.anne, numbers)
    with pytest.raises(NotFound), world.db.session() as s:
        problems.link_or_create(s, world.anne, [*numbers, "INC-999999"], title="Ny")
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(Problem)).scalar_one() == 1
        assert svc.get_incident(s, numbers[0]).problem_id is None


# --- the detail screen's actions -----------------------------------------------------------

def test_act_runs_each_action_against_the_version_seen(world) -> None:
    (number,) = log(world, 1)
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        version, seen = inc.version, svc.snapshot(inc)
        done = actions.act(s, world.anne, number, actions.Assign(to_me=True),
                           expected_version=version, seen=seen, now=NOW)
    assert done.number == number and incident(world, number).assignee_id is not None
    with pytest.raises(ConflictError), world.db.session() as s:  # stale version
        actions.act(s, world.anne, number, actions.SetStatus("in_progress"),
                    expected_version=version, seen=seen, now=NOW)
    with world.db.session() as s:  # comments add: no version needed
        actions.act(s, world.anne, number, actions.WorkNote("sjekket", 5), now=NOW)
        actions.act(s, world.anne, number, actions.Resolve("solved", "fikset"), now=NOW)
    assert incident(world, number).status == "resolved"


def test_act_merge_keeps_mine_then_applies_the_action(world) -> None:
    (number,) = log(world, 1)
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        version, seen = inc.version, svc.snapshot(inc)
    with world.db.session() as s:  # someone else edits the summary
        svc.update_fields(s, world.lars, number, {"summary": "Deres"}, now=NOW)
    with pytest.raises(ConflictError) as err, world.db.session() as s:
        actions.act(s, world.anne, number, actions.SetStatus("in_progress"),
                    expected_version=version, seen=seen, now=NOW)
    with world.db.session() as s:
        actions.act(s, world.anne, number, actions.SetStatus("in_progress"),
                    expected_version=version, seen=seen,
                    merge=actions.Merge(err.value.changes, ("summary",)), now=NOW)
    after = incident(world, number)
    assert after.summary == "Sak 0" and after.status == "in_progress"


def test_act_rate_names_the_customer_manager_and_link_names_the_problem(world) -> None:
    (number,) = log(world, 1)
    with world.db.session() as s:
        actions.act(s, world.anne, number, actions.Resolve("solved", "ok"), now=NOW)
        done = actions.act(s, world.anne, number, actions.Rate(2, "treigt"), now=NOW)
        linked = actions.act(s, world.anne, number, actions.LinkProblem(title="Ny sak"),
                             now=NOW)
        assert s.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 1
    assert done.follow_up and done.follow_up_for  # the unit's customer manager, by name
    assert linked.problem == "PRB-000002"


# --- sorts: one definition, NULLs last on both backends ------------------------------------

def _set_due(world, numbers: list[str], dues: list[datetime | None]) -> None:
    with world.db.session() as s:
        for number, due in zip(numbers, dues, strict=True):
            s.execute(update(Incident).where(Incident.number == number)
                      .values(resolution_due_at=due))


def test_due_sort_puts_incidents_without_a_due_time_last(world) -> None:
    numbers = log(world, 4)
    _set_due(world, numbers, [None, NOW + timedelta(hours=5), None, NOW + timedelta(hours=1)])
    with world.db.session() as s:
        rows = svc.list_incidents(s, view="open", sort="due", now=NOW)
        page = queue_page(s, actor=world.anne, view="open", sort="due", now=NOW)
    expected = [numbers[3], numbers[1], numbers[0], numbers[2]]  # ties: by priority, id
    assert [r["number"] for r in rows] == expected
    assert [r["number"] for r in page.rows] == expected


@pytest.mark.parametrize("sort", SORTS)
def test_compare_rows_agrees_with_the_sql_order(world, sort: str) -> None:
    """The queue places a live row with `compare_rows`: it must sort as the SQL did."""
    numbers = log(world, 5)
    _set_due(world, numbers, [None, NOW, None, NOW + timedelta(hours=1), NOW])
    with world.db.session() as s:
        svc.resolve(s, world.anne, numbers[1], code="solved", note="ok", now=NOW)
        rows = svc.list_incidents(s, view="all", sort=sort, now=NOW)
    import functools

    again = sorted(reversed(rows), key=functools.cmp_to_key(
        lambda a, b: compare_rows(sort, a, b)))
    assert [r["number"] for r in again] == [r["number"] for r in rows]


def test_queue_sorts_are_list_sorts() -> None:
    assert set(QUEUE_SORTS) <= set(SORTS)


# --- one lookup each -----------------------------------------------------------------------

def test_find_service_by_id_code_or_unique_name(world) -> None:
    with world.db.session() as s:
        m365 = find_service(s, "M365")
        assert find_service(s, m365.id).code == "M365"
        assert find_service(s, "microsoft 365").code == "M365"
        assert find_service(s, " m365 ").code == "M365"
        s.add(Service(code="UTSKRIFT", name="Microsoft 365"))  # two answer to the name
        s.flush()
        with pytest.raises(NotFound, match="unknown service"):
            find_service(s, "microsoft 365")
        assert find_service(s, "UTSKRIFT").name == "Microsoft 365"  # exact code still finds


def test_find_ci_by_id_exact_or_unique_name(world) -> None:
    with world.db.session() as s:
        ci = find_ci(s, "PC-KARI-01")
        assert find_ci(s, ci.id).name == "PC-KARI-01"
        assert find_ci(s, "pc-kari-01", for_update=True).id == ci.id
        s.add(ConfigItem(name="pc-kari-01", ci_class="client"))
        s.flush()
        assert find_ci(s, "pc-kari-01").id != ci.id  # the exact name wins
        with pytest.raises(NotFound, match="unknown configuration item"):
            find_ci(s, "PC-Kari-01")  # two answer ignoring case


# --- read models -----------------------------------------------------------------------------

def test_incident_detail_declares_every_column(world) -> None:
    """`incident_detail` builds its TypedDict from the model's columns: they must match."""
    (number,) = log(world, 1)
    with world.db.session() as s:
        data = svc.incident_detail(s, number)
    declared = set(get_type_hints(IncidentDetail))
    assert set(Incident.model_fields) <= declared
    assert set(data) == declared


def test_problem_detail_declares_every_column(world) -> None:
    with world.db.session() as s:
        data = problems.problem_detail(s, "PRB-000001")
    declared = set(get_type_hints(problems.ProblemDetail))
    assert set(Problem.model_fields) <= declared
    assert set(data) == declared
