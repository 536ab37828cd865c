"""Demo step 5: the incident history a month at a time, with problems, events, SLA clocks
and follow-ups."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import pob_tui.models as m
from pob_tui.demo.base import (
    _Picker,
    _t,
    _utc,
    _weighted,
)
from pob_tui.demo.clocks import ClockSteps
from pob_tui.demo.data import (
    BAD_COMMENTS,
    CHANNEL_INTRO,
    DETAILS,
    GENERIC_SUMMARIES,
    GOOD_COMMENTS,
    MONITORING,
    RESOLUTIONS,
    ROOT_CAUSES,
    SUMMARIES,
    TEXT,
    WORK_NOTES,
    WORKAROUNDS,
)
from pob_tui.models.incident import PRIORITY_MATRIX
from pob_tui.services.numbers import format_number

PRIORITY_WEIGHTS = [(1, 0.005), (2, 0.05), (3, 0.30), (4, 0.40), (5, 0.245)]
MATRIX: dict[int, list[tuple[int, int]]] = {}  # priority -> the (impact, urgency) giving it
for _pair, _prio in sorted(PRIORITY_MATRIX.items()):
    MATRIX.setdefault(_prio, []).append(_pair)
CHANNELS = [("phone", 55), ("email", 18), ("self_service", 15), ("walk_in", 5),
            ("monitoring", 7)]


class IncidentSteps(ClockSteps):
    # ---------------------------------------------------------------- incidents
    def incidents(self) -> None:
        rng = self.rng
        inc_services = [s for s in self.svc if s["life"] in ("live", "retiring")]
        self.svc_pick = _Picker(inc_services, [0.05 if s["barely"] else s["pop"]
                                               for s in inc_services])
        # some people call far more often than others
        self.caller_pick = _Picker(self.callers, [rng.paretovariate(2.5) for _ in self.callers])
        self.sd_team = self.team_ids["SD"]
        self.sd_agents = self.team_agents[self.sd_team]
        self.monitor_callers = [self.agent_person[a] for a in
                                self.team_agents[self.team_ids["DRIFT"]]]
        self.res_pick = _Picker(RESOLUTIONS, [r[2] for r in RESOLUTIONS])
        self.prio_pick = _Picker([p for p, _ in PRIORITY_WEIGHTS], [w for _, w in PRIORITY_WEIGHTS])
        self.chan_pick = _Picker([c for c, _ in CHANNELS], [w for _, w in CHANNELS])
        self.loc_name = {loc["id"]: loc["name"] for loc in self.locations}
        self.inc_id = self.prb_id = self.evt_id = self.fu_id = 0
        self._setup_clocks()
        # months from the start to today
        chunks: list[tuple[date, date]] = []
        d = self.start
        while d <= self.today:
            nxt = (d.replace(day=1) + timedelta(days=32)).replace(day=1)
            chunks.append((d, min(nxt - timedelta(days=1), self.today)))
            d = nxt
        if self.progress:
            self.progress("incidents", 0, len(chunks))
        for n, (a, b) in enumerate(chunks, 1):
            self._chunk(a, b)
            if self.progress:
                self.progress("incidents", n, len(chunks))

    def _chunk(self, first: date, last: date) -> None:
        rng, now = self.rng, self.now
        lo, hi = self.sc.calls
        incs: list[dict[str, Any]] = []
        day = first
        while day <= last:
            if self.working_day(day):
                n = rng.randint(lo + (hi - lo) // 3, hi) if day.weekday() == 0 else \
                    rng.randint(lo, hi - (hi - lo) // 5)
                secs = []
                for _ in range(n):
                    r = rng.random()
                    if r < 0.92:
                        s = rng.triangular(7.75 * 3600, 16 * 3600, 9 * 3600)
                    elif r < 0.97:
                        s = rng.uniform(6.5 * 3600, 20 * 3600)
                    else:
                        s = rng.uniform(0, 86399)
                    secs.append(int(s))
                secs.sort()
                for s in secs:
                    opened = _utc(day, s)
                    if opened >= now:
                        break
                    incs.append(self._incident(opened))
            day += timedelta(days=1)
        # problems: about one per 300 incidents, linking incidents of the same service
        problems = self._problems(incs, first, last)
        # failed changes cause a few incidents in the two days after
        for end, cid in self.failed_changes:
            if not (_utc(first, 0) <= end < _utc(last, 86400)):
                continue
            near = [i for i in incs if end <= i["opened_at"] < end + timedelta(days=2)]
            for i in rng.sample(near, min(len(near), rng.randint(2, 6))):
                i["caused_by_change_id"] = cid
        events: list[dict[str, Any]] = self._events
        follow: list[dict[str, Any]] = []
        for inc in incs:
            self.inc_id += 1
            inc["id"] = self.inc_id
            inc["number"] = format_number("INC", self.inc_id)
            self._incident_events(inc, events, follow)
        for e in events:
            self.evt_id += 1
            e["id"] = self.evt_id
        self.w.insert(_t(m.Problem), problems)
        self.w.insert(_t(m.Incident), incs)
        self.w.insert(_t(m.TicketEvent), events)
        self.w.insert(_t(m.FollowUp), follow)
        self.w.insert(_t(m.SlaClock), self._clocks)
        self._events = []
        self._clocks = []

    def _incident(self, opened: datetime) -> dict[str, Any]:
        rng, now = self.rng, self.now
        channel = self.chan_pick(rng)
        prio = self.prio_pick(rng)
        impact, urgency = rng.choice(MATRIX[prio])
        s = self.svc_pick(rng)
        if channel == "monitoring":
            caller = rng.choice(self.monitor_callers)
            cat = "Infrastruktur"
        else:
            caller = self.caller_pick(rng)
            cat = s["cat"]
        loc = self.person_loc[caller]
        templates = SUMMARIES.get(cat, GENERIC_SUMMARIES)
        if channel == "monitoring":
            templates = MONITORING
            loc = rng.choice(self.locations)["id"]
        elif cat in SUMMARIES and rng.random() < (0.6 if cat.startswith("Fagsystem") else 0.3):
            templates = GENERIC_SUMMARIES
        template = rng.choice(templates)
        summary = template.format(service=s["name"], location=self.loc_name[loc])
        if "svitsj" in template:
            ci = rng.choice(self.switches[loc])
        elif cat in ("Klient", "Tilgang", "Samhandling") and caller in self.person_pc:
            ci = self.person_pc[caller]
        elif cat == "Telefoni" and caller in self.person_phone:
            ci = self.person_phone[caller]
        elif cat == "Utskrift" and self.printers.get(loc):
            ci = rng.choice(self.printers[loc])
        else:
            ci = self.svc_ci[s["id"]][0]
        # who solves it and how long it takes
        escalate = rng.random() < (0.6 if prio == 1 else 0.25 if prio == 2 else 0.085)
        team = s["team"] if escalate and s["team"] != self.sd_team else self.sd_team
        if escalate and team == self.sd_team:
            team = self.team_ids["KLU"]
        opened_by = (None if channel in ("self_service", "monitoring")
                     else rng.choice(self.sd_agents))
        instant = channel in ("phone", "walk_in")
        first_resp = opened if instant else opened + timedelta(minutes=rng.randint(3, 90))
        if escalate:
            bucket = rng.random()
            if prio <= 2:
                hours = rng.uniform(1, 8)
            elif bucket < 0.15:
                hours = rng.uniform(2, 8)
            elif bucket < 0.35:
                hours = rng.uniform(20, 96)
            elif bucket < 0.65:
                hours = rng.uniform(96, 240)
            else:
                hours = rng.uniform(240, 330)
            delay = timedelta(hours=hours)
        elif rng.random() < 0.10:  # waiting for the caller or for equipment: days
            delay = timedelta(hours=rng.uniform(20, 240))
        else:
            delay = timedelta(minutes=min(480.0, rng.lognormvariate(math.log(12), 0.9)))
        resolved = opened + delay
        cancelled = rng.random() < 0.01
        assignee = rng.choice(self.team_agents[team]) if team != self.sd_team else (
            opened_by or rng.choice(self.sd_agents))
        inc: dict[str, Any] = {
            "id": 0, "number": "", "caller_id": caller, "service_id": s["id"], "ci_id": ci,
            "location_id": loc, "summary": summary[:200],
            "description": (CHANNEL_INTRO[channel] + summary + ". " + rng.choice(DETAILS)).strip(),
            "impact": impact, "urgency": urgency, "priority": prio, "status": "new",
            "channel": channel, "team_id": team, "assignee_id": assignee,
            "opened_by_id": opened_by, "opened_at": opened, "first_response_at": first_resp,
            "resolved_at": None, "closed_at": None, "updated_at": opened,
            "response_due_at": None, "resolution_due_at": None,
            "escalation_level": 1 if escalate else 0, "resolution_code": None,
            "resolution_note": None, "first_line": False, "problem_id": None,
            "caused_by_change_id": None, "satisfaction": None, "satisfaction_comment": None,
            "satisfaction_at": None, "version": 1,
        }
        if first_resp > now:
            inc["first_response_at"] = None
        if cancelled:
            at = opened + timedelta(minutes=rng.randint(5, 120))
            if at <= now:
                inc.update(status="cancelled", closed_at=at, updated_at=at,
                           resolution_code="duplicate", resolution_note=TEXT["duplicate_note"])
                return inc
        if resolved <= now:
            code, note, _w = self.res_pick(rng)
            inc.update(status="resolved", resolved_at=resolved, updated_at=resolved,
                       resolution_code=code, resolution_note=note, first_line=not escalate)
            closed = resolved + timedelta(days=5)
            if closed <= now:
                inc.update(status="closed", closed_at=closed, updated_at=closed)
            if rng.random() < 0.3:
                score = _weighted(rng, [(1, 3), (2, 4), (3, 8), (4, 15), (5, 30), (6, 40)])
                at = resolved + timedelta(minutes=rng.randint(10, 2880))
                if at <= now:
                    inc.update(satisfaction=score, satisfaction_at=at, satisfaction_comment=(
                        rng.choice(BAD_COMMENTS) if score < 4 else rng.choice(GOOD_COMMENTS)
                    ) or None)
            return inc
        # still open
        if escalate:
            status = ("waiting_supplier" if self.team_kind[team] == "supplier" else
                      _weighted(rng, [("assigned", 25), ("in_progress", 40),
                                      ("waiting_caller", 15), ("waiting_supplier", 20)]))
            if status == "assigned" and rng.random() < 0.5:
                inc["assignee_id"] = None
        elif now - opened < timedelta(minutes=20) and not instant:
            status = "new"
            inc["assignee_id"] = None
            inc["first_response_at"] = None
        elif delay > timedelta(hours=8):
            status = _weighted(rng, [("waiting_caller", 60), ("in_progress", 25),
                                     ("waiting_supplier", 15)])
        else:
            status = "in_progress"
        inc["status"] = status
        inc["updated_at"] = min(now, opened + timedelta(minutes=rng.randint(1, 120)))
        return inc

    def _problems(self, incs: list[dict[str, Any]], first: date,
                  last: date) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        carry = getattr(self, "_prb_carry", 0.0) + len(incs) / 300
        n = int(carry)
        self._prb_carry = carry - n
        if not incs or n == 0:
            return []
        by_service: dict[int, list[int]] = {}
        for idx, inc in enumerate(incs):
            by_service.setdefault(inc["service_id"], []).append(idx)
        chunk_end = min(_utc(last, 86399), now)
        made: list[dict[str, Any]] = []
        links: list[list[int]] = []
        for _ in range(n):
            seed_idx = rng.randrange(len(incs))
            seed = incs[seed_idx]
            same = [i for i in by_service[seed["service_id"]] if i >= seed_idx]
            linked = same[: rng.randint(2, 12)]
            opened = min(seed["opened_at"] + timedelta(minutes=rng.randint(30, 2880)), chunk_end)
            s = self.svc[seed["service_id"] - 1]
            known = rng.random() < 0.4
            age = now - opened
            if age > timedelta(days=60):
                status = "known_error" if known and rng.random() < 0.3 else "closed"
            elif age > timedelta(days=20):
                status = _weighted(rng, [("resolved", 40), ("known_error" if known
                                                             else "investigating", 60)])
            else:
                status = "known_error" if known else rng.choice(["new", "investigating"])
            resolved = closed = None
            if status in ("resolved", "closed"):
                resolved = min(now, opened + timedelta(days=rng.uniform(3, 50)))
                closed = min(now, resolved + timedelta(days=7)) if status == "closed" else None
            made.append({
                "id": 0, "number": "",
                "title": TEXT["problem_title"].format(summary=seed["summary"])[:200],
                "description": TEXT["problem_description"].format(service=s["name"]),
                "status": status, "priority": rng.choice([2, 3, 3, 4]), "service_id": s["id"],
                "ci_id": seed["ci_id"] if seed["ci_id"] in self.svc_ci[s["id"]] else
                self.svc_ci[s["id"]][0],
                "team_id": s["team"], "assignee_id": rng.choice(self.team_agents[s["team"]]),
                "root_cause": rng.choice(ROOT_CAUSES) if status in ("resolved", "closed")
                or known else None,
                "workaround": rng.choice(WORKAROUNDS) if known else None,
                "known_error": known,
                "symptoms": f"{seed['summary']}. {s['name']}" if known else None,
                "opened_at": opened, "resolved_at": resolved, "closed_at": closed,
                "updated_at": closed or resolved or opened, "version": 1,
            })
            links.append(linked)
        order = sorted(range(len(made)), key=lambda i: (made[i]["opened_at"], i))
        out = []
        for i in order:
            self.prb_id += 1
            p = made[i]
            p["id"], p["number"] = self.prb_id, format_number("PRB", self.prb_id)
            for idx in links[i]:
                incs[idx]["problem_id"] = p["id"]
            self._events.append(self._event("problem", p["id"], p["opened_at"], p["assignee_id"],
                                            "created", new="new"))
            out.append(p)
        return out

    def _incident_events(self, inc: dict[str, Any], events: list[dict[str, Any]],
                         follow: list[dict[str, Any]]) -> None:
        rng, ev = self.rng, self._event
        iid, opened, actor = inc["id"], inc["opened_at"], inc["opened_by_id"]
        events.append(ev("incident", iid, opened, actor, "created", new="new"))
        escalated_at = None
        if inc["escalation_level"]:
            at = opened + timedelta(minutes=rng.randint(2, 30))
            if at <= self.now:
                escalated_at = at
                events.append(ev("incident", iid, at, actor or rng.choice(self.sd_agents),
                                 "assignment", "team_id", str(self.sd_team), str(inc["team_id"])))
        self._sla_clocks(inc, escalated_at)
        end = inc["resolved_at"] or inc["closed_at"] or self.now
        if rng.random() < 0.5:
            span = max(1, int((end - opened).total_seconds() // 60))
            at = opened + timedelta(minutes=rng.randint(0, span))
            minutes = rng.randint(15, 240) if inc["escalation_level"] else rng.randint(5, 30)
            events.append(ev("incident", iid, at, inc["assignee_id"] or actor, "work_note",
                             comment=rng.choice(WORK_NOTES), minutes=minutes))
        status = inc["status"]
        if status in ("resolved", "closed"):
            events.append(ev("incident", iid, inc["resolved_at"], inc["assignee_id"], "status",
                             "status", "in_progress", "resolved", inc["resolution_note"]))
            if status == "closed":
                events.append(ev("incident", iid, inc["closed_at"], None, "status", "status",
                                 "resolved", "closed"))
        elif status == "cancelled":
            events.append(ev("incident", iid, inc["closed_at"], actor, "status", "status", "new",
                             "cancelled"))
        elif status != "new":
            events.append(ev("incident", iid, inc["updated_at"], inc["assignee_id"], "status",
                             "status", "new", status))
        if inc["satisfaction"] is not None:
            events.append(ev("incident", iid, inc["satisfaction_at"], None, "satisfaction",
                             "satisfaction", None, str(inc["satisfaction"]),
                             inc["satisfaction_comment"]))
            if inc["satisfaction"] < 4:
                unit = self.person_unit[inc["caller_id"]]
                done = inc["satisfaction_at"] < self.now - timedelta(days=14)
                self.fu_id += 1
                follow.append({
                    "id": self.fu_id, "incident_id": iid, "org_unit_id": unit,
                    "manager_id": self.unit_manager.get(unit), "status": "done" if done else "open",
                    "note": TEXT["follow_up_note"] if done else None,
                    "created_at": inc["satisfaction_at"],
                    "done_at": inc["satisfaction_at"] + timedelta(days=rng.randint(1, 10))
                    if done else None,
                })
