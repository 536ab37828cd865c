"""CAB agenda and minutes for people (Markdown, text) and scripts (JSON), and the change
success rate for reports. Read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.models import ChangeRequest
from pob_tui.textsafe import markdown_inline as _md

VOTE_WORDS = {"approve": "approved", "reject": "rejected", "defer": "deferred"}


def _clean(value: Any) -> str:
    """One line of user text for Markdown: no control characters, no table breaks."""
    if value is None:
        return ""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return text.replace("|", "\\|")


def _when(at: datetime | None, tz: ZoneInfo | None = None) -> str:
    if at is None:
        return ""
    return (at.astimezone(tz) if tz else at).strftime("%Y-%m-%d %H:%M")


def _impact_text(impact: dict[str, int] | None) -> str:
    if not impact:
        return ""
    return (f"{impact['cis']} CIs, {impact['services']} services, {impact['people']:,} people, "
            f"{impact['locations']} locations")


def agenda_json(data: dict[str, Any]) -> dict[str, Any]:
    """The agenda as the CLI's JSON contract (every item has number, title, type, risk,
    risk_reasons, planned_start, planned_end, impact, conflicts)."""
    return {"meeting": data["meeting"], "items": data["items"]}


def agenda_markdown(data: dict[str, Any], tz: ZoneInfo | None = None) -> str:
    m = data["meeting"]
    kind = "Emergency CAB" if m["kind"] == "emergency" else "CAB"
    lines = [f"# {kind} agenda {m['date']} {m['time']}", ""]
    if m.get("cutoff"):
        lines.append(f"Cut-off: {_when(m['cutoff'], tz)}")
    if m.get("chair"):
        lines.append(f"Chair: {_md(m['chair'])}")
    if m.get("members"):
        lines.append("Members: " + ", ".join(_md(x) for x in m["members"]))
    lines.append("")
    if not data["items"]:
        lines.append("No changes on the agenda.")
        return "\n".join(lines) + "\n"
    lines += ["| # | Change | Risk | Type | Window | Title |", "|---|---|---|---|---|---|"]
    for i, it in enumerate(data["items"], 1):
        lines.append(f"| {i} | {it['number']} | {it['risk'] or '-'} | {it['type']} | "
                     f"{_when(it['planned_start'], tz)} – {_when(it['planned_end'], tz)} | "
                     f"{_md(it['title'])} |")
    for i, it in enumerate(data["items"], 1):
        lines += ["", f"## {i}. {it['number']} {_md(it['title'])}", ""]
        lines.append(f"- Risk: {it['risk'] or '-'}"
                     + (" (" + "; ".join(_md(r) for r in it["risk_reasons"]) + ")"
                        if it["risk_reasons"] else ""))
        lines.append(f"- Window: {_when(it['planned_start'], tz)} – "
                     f"{_when(it['planned_end'], tz)}")
        if it.get("team") or it.get("implementer"):
            lines.append(f"- Team: {_md(it.get('team'))}; implementer: "
                         f"{_md(it.get('implementer'))}")
        if it.get("cis"):
            lines.append("- CIs: " + ", ".join(_md(c) for c in it["cis"]))
        if it.get("impact"):
            lines.append("- Impact: " + _impact_text(it["impact"]))
            if it.get("impact_services"):
                lines.append("- Services: " + ", ".join(_md(s) for s in it["impact_services"]))
        for c in it.get("conflicts") or []:
            lines.append(f"- Conflict: {_md(c['detail'])}")
        for d in it.get("earlier_decisions") or []:
            lines.append(f"- Earlier: CAB {d.get('meeting')} {VOTE_WORDS.get(d['vote'], d['vote'])}"
                         + (f" ({_md(d['conditions'])})" if d.get("conditions") else ""))
        for v in it.get("votes") or []:
            lines.append(f"- Vote: {_md(v['member'])} {v['vote']}"
                         + (f" ({_md(v['conditions'])})" if v.get("conditions") else ""))
        if it.get("chair_decision"):
            d = it["chair_decision"]
            lines.append(f"- Decision: {VOTE_WORDS.get(d['vote'], d['vote'])}"
                         + (f" ({_md(d['conditions'])})" if d.get("conditions") else ""))
    return "\n".join(lines) + "\n"


def agenda_text(data: dict[str, Any], tz: ZoneInfo | None = None) -> str:
    m = data["meeting"]
    lines = [f"CAB {m['date']} {m['time']} ({m['kind']}, {m['status']}): "
             f"{len(data['items'])} changes"]
    for i, it in enumerate(data["items"], 1):
        lines.append(f"{i:>2}. {it['number']}  {(it['risk'] or '-'):<6} {it['type']:<9} "
                     f"{_when(it['planned_start'], tz)}  {_clean(it['title'])}")
        if it["risk_reasons"]:
            lines.append("    risk: " + "; ".join(_clean(r) for r in it["risk_reasons"]))
        if it.get("impact"):
            lines.append("    impact: " + _impact_text(it["impact"]))
        for c in it.get("conflicts") or []:
            lines.append("    conflict: " + _clean(c["detail"]))
        for d in it.get("earlier_decisions") or []:
            lines.append(f"    earlier: {d.get('meeting')} {d['vote']}")
    return "\n".join(lines) + "\n"


def minutes_markdown(data: dict[str, Any], tz: ZoneInfo | None = None) -> str:
    m = data["meeting"]
    kind = "Emergency CAB" if m["kind"] == "emergency" else "CAB"
    lines = [f"# {kind} minutes {m['date']} {m['time']}", ""]
    if m.get("chair"):
        lines.append(f"Chair: {_md(m['chair'])}")
    if m.get("members"):
        lines.append("Members: " + ", ".join(_md(x) for x in m["members"]))
    s = data["summary"]
    lines += ["", f"Approved {s['approve']}, rejected {s['reject']}, deferred {s['defer']}, "
                  f"undecided {s['undecided']}.", ""]
    lines += ["| Change | Title | Risk | Decision | Conditions |", "|---|---|---|---|---|"]
    for it in data["items"]:
        d = it.get("chair_decision") or {}
        lines.append(f"| {it['number']} | {_md(it['title'])} | {it['risk'] or '-'} | "
                     f"{VOTE_WORDS.get(it['decision'] or '', 'not decided')} | "
                     f"{_md(d.get('conditions'))} |")
    for it in data["items"]:
        if not it.get("votes"):
            continue
        lines += ["", f"## {it['number']} votes", ""]
        for v in it["votes"]:
            lines.append(f"- {_md(v['member'])}: {v['vote']}"
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
