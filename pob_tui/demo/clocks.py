"""SLA clocks of the demo's incidents, computed with services.sla's calendars and targets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pob_tui.demo.changes import ChangeSteps


class ClockSteps(ChangeSteps):
    # ---------------------------------------------------------------- SLA clocks
    def _setup_clocks(self) -> None:
        """Calendars and agreement per sector, as services.sla would choose them: the
        sector's own agreement (Helse og omsorg 24/7, Oppvekst), else the default."""
        self.clock_id = 0
        self._clocks: list[dict[str, Any]] = []  # written with each month's incidents
        from pob_tui.config import Settings
        from pob_tui.services.sla import build_calendar

        self.cals = {cid: build_calendar(row, days, Settings())
                     for cid, (row, days) in self.calendar_rows.items()}
        sector_code = {sid: code for code, sid in self.sector_ids.items()}
        unit_sector = {u.id: u.sector for u in self.units}
        unit_sector.update({sid: code for sid, code in sector_code.items()})
        self.unit_agreement = {uid: {"HO": 2, "OPP": 3}.get(code, 1)
                               for uid, code in unit_sector.items()}
        self.agreement_calendar = {1: 1, 2: 2, 3: 1}
        self.team_calendar = {tid: (2 if code == "DRIFT" else 1)
                              for code, tid in self.team_ids.items()}

    def _sla_clocks(self, inc: dict[str, Any], escalated_at: datetime | None) -> None:
        """Response, resolution and (for escalations) OLA clocks, computed with the same
        calendars and targets as services.sla. Demo histories have no waiting periods on
        resolved tickets; open tickets waiting since `updated_at` are paused from then."""
        from pob_tui.services.sla import pauses_from

        agreement = self.unit_agreement.get(self.person_unit[inc["caller_id"]], 1)
        cal_id = self.agreement_calendar[agreement]
        resp, res = self.sla_targets[agreement][inc["priority"] - 1]
        status = inc["status"]
        final = inc["resolved_at"] if status in ("resolved", "closed") else (
            inc["closed_at"] if status == "cancelled" else None)
        pauses = []
        if status in ("waiting_caller", "waiting_supplier"):
            pauses = pauses_from([(inc["opened_at"], "new"), (inc["updated_at"], status)],
                                 self.now)
        opened = inc["opened_at"]

        def clock(kind: str, team: int | None, cid: int, minutes: int, start: datetime,
                  stop: datetime | None) -> datetime:
            due = self.cals[cid].add(start, timedelta(minutes=minutes), pauses)
            self.clock_id += 1
            self._clocks.append({
                "id": self.clock_id, "incident_id": inc["id"], "kind": kind, "team_id": team,
                "calendar_id": cid, "target_minutes": minutes, "started_at": start,
                "due_at": due, "stopped_at": stop,
                "met": None if stop is None or status == "cancelled" else stop <= due,
                "breached_at": None, "warned_at": None})
            return due

        inc["response_due_at"] = clock("response", None, cal_id, resp, opened,
                                       inc["first_response_at"] or final)
        inc["resolution_due_at"] = clock("resolution", None, cal_id, res, opened, final)
        if escalated_at is not None:
            team = inc["team_id"]
            clock("ola", team, self.team_calendar.get(team, 1),
                  self.ola_targets[inc["priority"] - 1][1], escalated_at, final)
