"""CAB agenda and minutes for people (Markdown, text, the CAB screen's detail) and scripts
(JSON), and the change success rate for reports. Read-only.

The agenda's read model (`Agenda`, built by `services.cab.agenda`) is declared here, with
the one renderer of an agenda item (`item_lines`) that the CAB screen and `pob cab agenda`
both print.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import NotRequired, TypedDict

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.i18n import LazyLabels, _, format_decimal, ngettext
from pob_tui.models import ChangeRequest
from pob_tui.textsafe import markdown_inline as _md


class Conflict(TypedDict):
    """A clash of a change with another live change (`services.changes.conflicts`)."""

    number: str
    kind: str  # same_ci | dependent_ci | same_service | implementer
    detail: str


class ImpactCounts(TypedDict):
    cis: int
    services: int
    people: int
    locations: int


class MeetingInfo(TypedDict):
    """The meeting an agenda is for (dates and times in the office's zone)."""

    starts_at: datetime
    date: str
    time: str
    kind: str  # regular | emergency
    status: str  # planned | held | cancelled
    cutoff: datetime | None
    chair: str | None
    members: list[str]


class VoteRow(TypedDict):
    """A member's vote, or (final) the chair's decision."""

    member: str
    vote: str
    conditions: str | None
    final: bool
    at: datetime
    meeting: NotRequired[str | None]  # an earlier decision: that meeting's date


class AgendaItem(TypedDict):
    """A change on the agenda. `impact`, `impact_services` and `conflicts` are left out of
    the minutes."""

    number: str
    title: str
    type: str
    status: str
    risk: str | None
    risk_reasons: list[str]
    planned_start: datetime | None
    planned_end: datetime | None
    team: str | None
    implementer: str | None
    cis: list[str]
    position: int
    decision: str | None
    impact: NotRequired[ImpactCounts | None]
    impact_services: NotRequired[list[str]]
    conflicts: NotRequired[list[Conflict]]
    votes: list[VoteRow]
    chair_decision: VoteRow | None
    earlier_decisions: list[VoteRow]


class Agenda(TypedDict):
    """`pob cab agenda --format json` (a contract) and the CAB screen."""

    meeting: MeetingInfo
    items: list[AgendaItem]


class Minutes(Agenda):
    """`pob cab minutes --format json`: the agenda without impact, and the decisions."""

    summary: dict[str, int]


VOTE_WORDS = {"approve": "approved", "reject": "rejected", "defer": "deferred"}
"""The English past tense of a vote (kept for callers); people read `DECISION_LABELS`."""

DECISION_LABELS = LazyLabels(lambda: {
    "approve": _("approved"), "reject": _("rejected"), "defer": _("deferred"),
})
VOTE_LABELS = LazyLabels(lambda: {
    "approve": _("approve"), "reject": _("reject"), "defer": _("defer"),
})
WORD_LABELS = LazyLabels(lambda: {
    # risk
    "low": _("low"), "medium": _("medium"), "high": _("high"),
    # change type
    "standard": _("standard"), "normal": _("normal"), "emergency": _("emergency"),
    # meeting kind and status
    "regular": _("regular"),
    "planned": _("planned"), "held": _("held"), "cancelled": _("cancelled"),
    # change status (as the changes screen shows them)
    "draft": _("draft"), "submitted": _("submitted"), "assessed": _("assessed"),
    "awaiting_cab": _("awaiting CAB"), "approved": _("approved"), "rejected": _("rejected"),
    "scheduled": _("scheduled"), "in_progress": _("in progress"),
    "implemented": _("implemented"), "failed": _("failed"), "backed_out": _("backed out"),
    "reviewed": _("reviewed"), "closed": _("closed"),
})
"""Stored words of the agenda and minutes as people read them (JSON keeps the words)."""


def _word(value: str | None) -> str:
    return WORD_LABELS.get(value, value) if value else "-"


def _decision(vote: str | None) -> str:
    return DECISION_LABELS.get(vote or "", vote or "")


def _clean(value: object) -> str:
    """One line of user text for Markdown: no control characters, no table breaks."""
    if value is None:
        return ""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return text.replace("|", "\\|")


def _when(at: datetime | None, tz: tzinfo | None = None) -> str:
    if at is None:
        return ""
    return (at.astimezone(tz) if tz else at).strftime("%Y-%m-%d %H:%M")


def _impact_text(impact: ImpactCounts | None) -> str:
    """'2 CI-er, 1 tjeneste, 96 personer, 3 lokasjoner': each count with its singular or
    plural, numbers as people read them (the TUI's CAB detail shows the same)."""
    if not impact:
        return ""
    cis, services = impact.get("cis", 0), impact.get("services", 0)
    people, locations = impact.get("people", 0), impact.get("locations", 0)
    return ", ".join((
        ngettext("{n} CI", "{n} CIs", cis).format(n=format_decimal(cis)),
        ngettext("{n} service", "{n} services", services).format(n=format_decimal(services)),
        ngettext("{n} person", "{n} people", people).format(n=format_decimal(people)),
        ngettext("{n} location", "{n} locations", locations).format(
            n=format_decimal(locations)),
    ))


impact_text = _impact_text


def _kind(meeting: MeetingInfo) -> str:
    return _("Emergency CAB") if meeting["kind"] == "emergency" else _("CAB")


def agenda_json(data: Agenda) -> Agenda:
    """The agenda as the CLI's JSON contract (every item has number, title, type, risk,
    risk_reasons, planned_start, planned_end, impact, conflicts)."""
    return Agenda(meeting=data["meeting"], items=data["items"])


def item_lines(item: AgendaItem, tz: tzinfo | None = None) -> list[str]:
    """One agenda item for people, in the current language: what it is and its risk, the
    impact, the window, conflicts, earlier decisions, this meeting's votes and the chair's
    decision. The CAB screen's detail pane and `pob cab agenda` print these lines."""
    lines = [
        f"{item['number']} · {_word(item['type'])} · {_word(item['status'])} · "
        + _("risk {risk}").format(risk=_word(item["risk"]))
        + ": " + "; ".join(item["risk_reasons"]),
        _("Impact: {impact}").format(impact=_impact_text(
            item.get("impact") or ImpactCounts(cis=0, services=0, people=0, locations=0))),
    ]
    start, end = item["planned_start"], item["planned_end"]
    if start is not None:
        lines.append(_("Window: {start} – {end} · {team}").format(
            start=_when(start, tz), end=(end.astimezone(tz) if end else start).strftime(
                "%H:%M"), team=item.get("team") or ""))
    for c in item.get("conflicts") or []:
        lines.append(_("Conflict: {detail}").format(detail=c["detail"]))
    for d in item["earlier_decisions"]:
        lines.append(_("Earlier: CAB {date} {vote}").format(
            date=d.get("meeting"), vote=_decision(d["vote"]))
            + (f" ({d['conditions']})" if d.get("conditions") else ""))
    for v in item["votes"]:
        lines.append(f"{v['member']}: {VOTE_LABELS.get(v['vote'], v['vote'])}"
                     + (f" ({v['conditions']})" if v.get("conditions") else ""))
    final = item["chair_decision"]
    if final:
        lines.append(_("Decision: {vote}").format(vote=_decision(final["vote"]))
                     + (f" ({final['conditions']})" if final.get("conditions") else ""))
    return lines


def agenda_markdown(data: Agenda, tz: tzinfo | None = None) -> str:
    """The agenda for people, in the current language (the JSON keeps English words)."""
    m = data["meeting"]
    lines = [_("# {kind} agenda {date} {time}").format(kind=_kind(m), date=m["date"],
                                                      time=m["time"]), ""]
    if m.get("cutoff"):
        lines.append(_("Cut-off: {when}").format(when=_when(m["cutoff"], tz)))
    if m.get("chair"):
        lines.append(_("Chair: {name}").format(name=_md(m["chair"])))
    if m.get("members"):
        lines.append(_("Members: {names}").format(names=", ".join(_md(x) for x in m["members"])))
    lines.append("")
    if not data["items"]:
        lines.append(_("No changes on the agenda."))
        return "\n".join(lines) + "\n"
    heads = ("#", _("Change"), _("Risk"), _("Type"), _("Window"), _("Title"))
    lines += ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|---|"]
    for i, it in enumerate(data["items"], 1):
        lines.append(f"| {i} | {it['number']} | {_word(it['risk'])} | {_word(it['type'])} | "
                     f"{_when(it['planned_start'], tz)} – {_when(it['planned_end'], tz)} | "
                     f"{_md(it['title'])} |")
    for i, it in enumerate(data["items"], 1):
        lines += ["", f"## {i}. {it['number']} {_md(it['title'])}", ""]
        lines.append("- " + _("Risk: {risk}").format(risk=_word(it["risk"]))
                     + (" (" + "; ".join(_md(r) for r in it["risk_reasons"]) + ")"
                        if it["risk_reasons"] else ""))
        lines.append("- " + _("Window: {start} – {end}").format(
            start=_when(it["planned_start"], tz), end=_when(it["planned_end"], tz)))
        if it.get("team") or it.get("implementer"):
            lines.append("- " + _("Team: {team}; implementer: {implementer}").format(
                team=_md(it.get("team")), implementer=_md(it.get("implementer"))))
        if it.get("cis"):
            lines.append("- " + _("CIs: {names}").format(
                names=", ".join(_md(c) for c in it["cis"])))
        if it.get("impact"):
            lines.append("- " + _("Impact: {impact}").format(impact=_impact_text(it["impact"])))
            if it.get("impact_services"):
                lines.append("- " + _("Services: {names}").format(
                    names=", ".join(_md(s) for s in it["impact_services"])))
        for c in it.get("conflicts") or []:
            lines.append("- " + _("Conflict: {detail}").format(detail=_md(c["detail"])))
        for d in it.get("earlier_decisions") or []:
            lines.append("- " + _("Earlier: CAB {meeting} {decision}").format(
                meeting=d.get("meeting"), decision=_decision(d["vote"]))
                + (f" ({_md(d['conditions'])})" if d.get("conditions") else ""))
        for v in it.get("votes") or []:
            lines.append("- " + _("Vote: {member} {vote}").format(
                member=_md(v["member"]), vote=VOTE_LABELS.get(v["vote"], v["vote"]))
                + (f" ({_md(v['conditions'])})" if v.get("conditions") else ""))
        final = it.get("chair_decision")
        if final:
            lines.append("- " + _("Decision: {decision}").format(
                decision=_decision(final["vote"]))
                + (f" ({_md(final['conditions'])})" if final.get("conditions") else ""))
    return "\n".join(lines) + "\n"


def agenda_text(data: Agenda, tz: tzinfo | None = None) -> str:
    """The agenda as plain lines for the terminal, in the current language: a line per item,
    then the item as the CAB screen's detail shows it (`item_lines`)."""
    m = data["meeting"]
    n = len(data["items"])
    lines = [_("CAB {date} {time} ({kind}, {status}): {changes}").format(
        date=m["date"], time=m["time"], kind=_word(m["kind"]), status=_word(m["status"]),
        changes=ngettext("{n} change", "{n} changes", n).format(n=n))]
    for i, it in enumerate(data["items"], 1):
        lines.append(f"{i:>2}. {it['number']}  {_word(it['risk']):<7} {_word(it['type']):<9} "
                     f"{_when(it['planned_start'], tz)}  {_clean(it['title'])}")
        lines += ["    " + _clean(line) for line in item_lines(it, tz)]
    return "\n".join(lines) + "\n"


def minutes_markdown(data: Minutes, tz: tzinfo | None = None) -> str:
    """The minutes for people, in the current language (the JSON keeps English words)."""
    m = data["meeting"]
    lines = [_("# {kind} minutes {date} {time}").format(kind=_kind(m), date=m["date"],
                                                       time=m["time"]), ""]
    if m.get("chair"):
        lines.append(_("Chair: {name}").format(name=_md(m["chair"])))
    if m.get("members"):
        lines.append(_("Members: {names}").format(names=", ".join(_md(x) for x in m["members"])))
    s = data["summary"]
    lines += ["", _("Approved {approve}, rejected {reject}, deferred {defer}, "
                    "undecided {undecided}.").format(**s), ""]
    heads = (_("Change"), _("Title"), _("Risk"), _("Decision"), _("Conditions"))
    lines += ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|"]
    for it in data["items"]:
        final = it.get("chair_decision")
        decision = _decision(it["decision"]) if it["decision"] else _("not decided")
        lines.append(f"| {it['number']} | {_md(it['title'])} | {_word(it['risk'])} | "
                     f"{decision} | {_md(final.get('conditions') if final else None)} |")
    for it in data["items"]:
        if not it.get("votes"):
            continue
        lines += ["", _("## {number} votes").format(number=it["number"]), ""]
        for v in it["votes"]:
            lines.append(f"- {_md(v['member'])}: {VOTE_LABELS.get(v['vote'], v['vote'])}"
                         + (f" ({_md(v['conditions'])})" if v.get("conditions") else ""))
    return "\n".join(lines) + "\n"


class ChangeSuccess(TypedDict):
    """`change_success_rate`'s figures (KPI and CAB reports read them by key)."""

    total: int
    successful: int
    failed: int
    backed_out: int
    rate: float | None


def change_success_rate(session: Session, start: datetime, end: datetime) -> ChangeSuccess:
    """Changes with an outcome whose (actual, else planned) end falls in [start, end): how
    many succeeded, failed or were backed out, and the share that succeeded (None: none)."""
    ended = func.coalesce(col(ChangeRequest.actual_end), col(ChangeRequest.planned_end))
    rows = dict(session.execute(
        select(col(ChangeRequest.outcome), func.count())
        .where(col(ChangeRequest.outcome).is_not(None), ended >= start, ended < end)
        .group_by(col(ChangeRequest.outcome))).all())
    total = sum(rows.values())
    ok = rows.get("successful", 0)
    return ChangeSuccess(total=total, successful=ok, failed=rows.get("failed", 0),
                         backed_out=rows.get("backed_out", 0),
                         rate=round(ok / total, 4) if total else None)
