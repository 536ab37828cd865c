"""Demo step 4: change templates, freeze windows, CAB meetings, changes with their votes."""

from __future__ import annotations

import bisect
import json
import random
from datetime import date, datetime, timedelta
from typing import Any

import pob_tui.models as m
from pob_tui.demo.base import (
    _t,
    _utc,
    _weighted,
)
from pob_tui.demo.cmdb import CmdbSteps
from pob_tui.demo.data import (
    CHANGE_TEMPLATES,
    CHANGE_TITLES,
    RISK_REASONS,
    TEAMS,
    TEXT,
)
from pob_tui.services.numbers import format_number


class ChangeSteps(CmdbSteps):
    # ---------------------------------------------------------------- changes and CAB
    def changes(self) -> None:
        rng = self.rng
        tpl_rows = []
        for i, (name, team) in enumerate(CHANGE_TEMPLATES, 1):
            tpl_rows.append({
                "id": i, "name": name, "description": TEXT["standard_change"].format(name=name),
                "implementation_plan": TEXT["standard_implementation"],
                "test_plan": TEXT["standard_test"],
                "backout_plan": TEXT["standard_backout"],
                "owner_team_id": self.team_ids[team], "active": True})
        self.w.insert(_t(m.ChangeTemplate), tpl_rows)
        freeze: list[dict[str, Any]] = []
        for y in self.years:
            for name, a, b in ((TEXT["christmas_freeze"].format(year=y), date(y, 12, 20),
                                date(y + 1, 1, 3)),
                               (TEXT["school_start_freeze"].format(year=y), date(y, 8, 12),
                                date(y, 8, 20))):
                freeze.append({"id": len(freeze) + 1, "name": name,
                               "starts_at": _utc(a, 0), "ends_at": _utc(b, 86399)})
        self.w.insert(_t(m.FreezeWindow), freeze)

        # CAB meetings Tuesdays and Thursdays 10:00, from the start to two weeks ahead
        meetings: list[dict[str, Any]] = []
        d, end = self.start - timedelta(days=21), self.today + timedelta(days=14)
        while d <= end:
            if d.weekday() in (1, 3) and d not in self.hol:
                at = _utc(d, 10 * 3600)
                meetings.append({"id": len(meetings) + 1, "starts_at": at, "kind": "regular",
                                 "status": "held" if at < self.now else "planned",
                                 "chair_id": self.change_manager, "notes": None})
            d += timedelta(days=1)
        meeting_starts = [mt["starts_at"] for mt in meetings]
        self.w.insert(_t(m.CabMeeting), meetings)
        self.w.insert(_t(m.CabMember), [{"meeting_id": mt["id"], "agent_id": a}
                                        for mt in meetings for a in self.cab_members])

        second = [c for c, _n, k, _a in TEAMS if k == "second_line"]
        live = [s for s in self.svc if s["life"] in ("live", "retiring")]
        changes: list[dict[str, Any]] = []
        meta: list[tuple[int | None, list[int]]] = []  # (meeting index, cis)
        week = self.start - timedelta(days=self.start.weekday())
        while week <= self.today + timedelta(days=14):
            for _ in range(rng.randint(8, 15)):
                ctype = _weighted(rng, [("normal", 78), ("standard", 17), ("emergency", 5)])
                day = week + timedelta(days=rng.randint(0, 4) if ctype != "emergency"
                                       else rng.randint(0, 6))
                if ctype == "emergency":
                    start = _utc(day, rng.randint(8 * 3600, 22 * 3600))
                else:
                    start = _utc(day, rng.choice([17, 18, 19, 20, 21]) * 3600)
                if start > self.now + timedelta(days=14):
                    continue
                dur = timedelta(minutes=rng.choice([30, 60, 90, 120, 180, 240]))
                changes.append(self._change(ctype, start, dur, rng, second, live, meeting_starts,
                                            meta))
            week += timedelta(days=7)
        # number by creation time
        order = sorted(range(len(changes)), key=lambda i: (changes[i]["created_at"], i))
        rows: list[dict[str, Any]] = []
        agenda: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        cci: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        positions: dict[int, int] = {}
        self.failed_changes: list[tuple[datetime, int]] = []
        for new_id, i in enumerate(order, 1):
            ch = changes[i]
            ch["id"], ch["number"] = new_id, format_number("CHG", new_id)
            rows.append(ch)
            mi, ci_ids = meta[i]
            cci.extend({"change_id": new_id, "ci_id": c} for c in dict.fromkeys(ci_ids))
            events.append(self._event("change", new_id, ch["created_at"], None, "created",
                                      new="draft"))
            if ch["status"] not in ("draft",):
                events.append(self._event("change", new_id, ch["updated_at"], None, "status",
                                          "status", "draft", ch["status"]))
            if ch["outcome"] in ("failed", "backed_out") and ch["actual_end"]:
                self.failed_changes.append((ch["actual_end"], new_id))
            if mi is None:
                continue
            mt = meetings[mi]
            positions[mi] = positions.get(mi, 0) + 1
            held = mt["status"] == "held"
            decision = ("reject" if ch["status"] == "rejected" else "approve") if held else None
            agenda.append({"id": len(agenda) + 1, "meeting_id": mt["id"], "change_id": new_id,
                           "position": positions[mi], "decision": decision})
            if held:
                at = mt["starts_at"] + timedelta(minutes=5 * positions[mi])
                voters = rng.sample(self.cab_members, min(len(self.cab_members), 4))
                for a in voters:
                    if a == self.change_manager:
                        continue
                    vote = decision if rng.random() < 0.9 else rng.choice(["approve", "defer"])
                    decisions.append({"id": len(decisions) + 1, "meeting_id": mt["id"],
                                      "change_id": new_id, "agent_id": a, "vote": vote,
                                      "conditions": None, "final": False, "decided_at": at})
                decisions.append({"id": len(decisions) + 1, "meeting_id": mt["id"],
                                  "change_id": new_id, "agent_id": self.change_manager,
                                  "vote": decision, "final": True, "decided_at": at,
                                  "conditions": TEXT["cab_conditions"] if rng.random() < 0.3
                                  else None})
        self.w.insert(_t(m.ChangeRequest), rows)
        self.w.insert(_t(m.ChangeCi), cci)
        self.w.insert(_t(m.CabAgendaItem), agenda)
        self.w.insert(_t(m.CabDecision), decisions)
        self._events = events  # written with the first incident chunk
        self.failed_changes.sort()

    def _change(self, ctype: str, start: datetime, dur: timedelta, rng: random.Random,
                second: list[str], live: list[dict[str, Any]], meeting_starts: list[datetime],
                meta: list[tuple[int | None, list[int]]]) -> dict[str, Any]:
        now = self.now
        s = rng.choice(live)
        loc = rng.choice(self.locations)
        team_code = rng.choice(second)
        template = None
        if ctype == "standard":
            template = rng.randint(1, len(CHANGE_TEMPLATES))
            name, team_code = CHANGE_TEMPLATES[template - 1]
            title = f"{name} – {s['name'] if rng.random() < 0.6 else loc['name']}"
        else:
            title = rng.choice(CHANGE_TITLES).format(service=s["name"], location=loc["name"],
                                                     v=f"{rng.randint(2, 24)}.{rng.randint(0, 9)}")
        team = self.team_ids[team_code]
        implementer = rng.choice(self.team_agents[team])
        requester = self.agent_person[rng.choice(self.team_agents[team])]
        end = start + dur
        # the CAB meeting at least a day before the window (normal changes only)
        mi = None
        if ctype == "normal":
            j = bisect.bisect_right(meeting_starts, start - timedelta(days=1)) - 1
            mi = j if j >= 0 else None
        if mi is not None:
            submitted = meeting_starts[mi] - timedelta(hours=rng.randint(20, 140))
        elif ctype == "emergency":
            submitted = start - timedelta(minutes=rng.randint(30, 600))
        else:
            submitted = start - timedelta(hours=rng.randint(24, 240))
        if submitted > now:
            submitted = now - timedelta(minutes=rng.randint(30, 3000))
        created = submitted - timedelta(minutes=rng.randint(10, 4000))
        risk = ("low" if ctype == "standard" else
                _weighted(rng, [("low", 50), ("medium", 38), ("high", 12)]) if ctype == "normal"
                else _weighted(rng, [("medium", 60), ("high", 40)]))
        reasons = rng.sample(RISK_REASONS[risk], min(len(RISK_REASONS[risk]), rng.randint(1, 3)))
        answers = {"users_affected": {"low": 50, "medium": 500, "high": 3000}[risk],
                   "tested": risk != "high", "backout_minutes": rng.choice([15, 30, 60, 120]),
                   "critical_service": risk == "high"}
        status, outcome, a_start, a_end, review = "closed", None, None, None, None
        if end <= now:
            outcome = _weighted(rng, [("successful", 90), ("failed", 4), ("backed_out", 4),
                                      ("rejected", 2 if ctype == "normal" else 0)])
            if outcome == "rejected":
                status, outcome = "rejected", None
            else:
                a_start = start + timedelta(minutes=rng.randint(0, 20))
                a_end = a_start + dur * rng.uniform(0.6, 1.3)
                recent = end > now - timedelta(days=7)
                if outcome == "successful":
                    status = "implemented" if recent and rng.random() < 0.5 else "closed"
                else:
                    status = outcome if recent else "closed"
                    review = TEXT["change_review"]
        elif start <= now:
            status, a_start = "in_progress", start
        else:
            ahead = start - now
            if ctype == "standard":
                status = "scheduled"
            elif ctype == "emergency":
                status = "approved"
            elif mi is not None and meeting_starts[mi] < now:
                status = _weighted(rng, [("approved", 40), ("scheduled", 60)])
            elif ahead > timedelta(days=7):
                status = _weighted(rng, [("draft", 30), ("submitted", 30), ("awaiting_cab", 40)])
            else:
                status = _weighted(rng, [("submitted", 30), ("awaiting_cab", 70)])
        if status in ("draft", "submitted") and mi is not None and meeting_starts[mi] >= now:
            mi = None
        if status == "draft":
            submitted = None  # type: ignore[assignment]
        updated = max(x for x in (created, submitted, a_end, a_start) if x is not None)
        if updated > now:
            updated = now
        cis = list(self.svc_ci.get(s["id"], []))[:2]
        if "svitsj" in title or "trådløst" in title:
            cis = self.switches[loc["id"]][:2]
        meta.append((mi, cis))
        return {
            "id": 0, "number": "", "type": ctype, "title": title[:200],
            "description": TEXT["change_description"].format(title=title, service=s["name"]),
            "reason": rng.choice(TEXT["change_reasons"]),
            "status": status, "requester_id": requester, "owner_team_id": team,
            "implementer_id": implementer, "template_id": template, "risk": risk,
            "risk_answers": json.dumps(answers), "risk_reasons": json.dumps(reasons,
                                                                             ensure_ascii=False),
            "planned_start": start, "planned_end": end, "actual_start": a_start,
            "actual_end": a_end,
            "implementation_plan": TEXT["change_implementation"],
            "test_plan": TEXT["change_test"],
            "backout_plan": TEXT["change_backout"],
            "emergency_reason": (TEXT["emergency_reason"]
                                 if ctype == "emergency" else None),
            "outcome": outcome, "review_note": review, "created_at": created,
            "submitted_at": submitted, "updated_at": updated, "version": 1,
        }
