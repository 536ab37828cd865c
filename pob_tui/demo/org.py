"""Demo step 1: locations, org units, people, IT teams and agents, agreements and SLA
targets."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import bindparam, update

import pob_tui.models as m
from pob_tui.demo.base import (
    DOMAIN,
    GeneratorBase,
    _apportion,
    _ascii,
    _slug,
    _t,
    _Unit,
)
from pob_tui.demo.data import (
    ADMIN_UNITS,
    LOCATION_KINDS,
    OFFICES,
    SECTORS,
    SMALL_KIND_COUNTS,
    TEAM_TITLES,
    TEAMS,
    TEXT,
    TITLES,
    _data_lines,
)


class OrgSteps(GeneratorBase):
    # ---------------------------------------------------------------- organisation
    def organisation(self) -> None:
        rng, sc = self.rng, self.sc
        places = [ln.split("|") for ln in _data_lines("places.txt")]
        firsts, lasts = _data_lines("first_names.txt"), _data_lines("last_names.txt")
        place_info = {p[0]: p for p in places}

        kinds = list(LOCATION_KINDS)
        if sc.locations >= 250:
            counts = {k: LOCATION_KINDS[k][0] for k in kinds}
        elif sc.locations == 20:
            counts = {k: SMALL_KIND_COUNTS.get(k, 0) for k in kinds}
        else:
            counts = dict(zip(kinds, _apportion(sc.locations, [LOCATION_KINDS[k][0]
                                                                for k in kinds]), strict=True))
            counts["office"] = max(counts["office"], 1)
        locs: list[dict[str, Any]] = []
        loc_kind: list[str] = []
        names: set[str] = set()
        for kind in kinds:
            order = [p[0] for p in places]
            rng.shuffle(order)
            for i in range(counts[kind]):
                if kind == "office":
                    name, place = OFFICES[i % len(OFFICES)]
                    if i >= len(OFFICES):
                        name = f"{name} {i // len(OFFICES) + 1}"
                else:
                    place = order[i % len(order)]
                    pattern = LOCATION_KINDS[kind][3][i % len(LOCATION_KINDS[kind][3])]
                    name = pattern.format(p=place)
                    if i >= len(order):
                        name = f"{name} {i // len(order) + 1}"
                n = 2
                base = name
                while name in names:
                    name, n = f"{base} {n}", n + 1
                names.add(name)
                info = place_info.get(place, [place, "1337", "Sandvika", "Kinoveien"])
                lid = len(locs) + 1
                locs.append({"id": lid, "code": f"LOK-{lid:03d}", "name": name, "kind": kind,
                             "address": f"{info[3]} {rng.randint(1, 120)}, {info[1]} {info[2]}",
                             "ring": rng.randint(1, 3), "active": True})
                loc_kind.append(kind)
        self.locations = locs
        self.w.insert(_t(m.Location), locs)
        office_ids = [loc["id"] for loc in locs if loc["kind"] == "office"]
        self.office_ids = office_ids
        self.hq = office_ids[0]

        # org units: sectors, then units from locations and administrative units
        units: list[_Unit] = []
        sector_ids: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for code, name, _cc in SECTORS:
            sid = len(rows) + 1
            sector_ids[code] = sid
            rows.append({"id": sid, "code": code, "name": name, "kind": "sector",
                         "parent_id": None, "cost_centre": f"{_cc}0000",
                         "customer_manager_id": None, "active": True})
        seq: dict[str, int] = {c: 0 for c, _, _ in SECTORS}
        cc_prefix = {c: p for c, _, p in SECTORS}

        def add_unit(sector: str, name: str, kind: str, loc_id: int, weight: int) -> None:
            seq[sector] += 1
            uid = len(rows) + 1
            rows.append({"id": uid, "code": f"{sector}-{seq[sector]:03d}", "name": name,
                         "kind": "unit", "parent_id": sector_ids[sector],
                         "cost_centre": f"{cc_prefix[sector]}{seq[sector]:03d}0",
                         "customer_manager_id": None, "active": True})
            units.append(_Unit(uid, name, sector, kind, loc_id, weight))

        for sector, name, weight, office in ADMIN_UNITS:
            add_unit(sector, name, "office", office_ids[office % len(office_ids)], weight)
        for loc in locs:
            kind = loc["kind"]
            if kind == "office":
                continue
            _n, sector, weight, _p = LOCATION_KINDS[kind]
            add_unit(sector, loc["name"], kind, loc["id"], weight)
        self.sector_ids = sector_ids
        self.units = units
        self.unit_by_id = {u.id: u for u in units}
        self.it_unit = next(u for u in units if u.name == "IT-avdelingen")
        self.w.insert(_t(m.OrgUnit), rows)
        self.org_rows = rows

        # people
        people: list[dict[str, Any]] = []
        self.usernames: set[str] = {self.operator.lower()} if self.operator else set()
        phones = rng.sample(range(10_000_000), sc.people + 200)
        self._phones = iter(phones)
        self._firsts, self._lasts = firsts, lasts
        alloc = _apportion(sc.people, [u.weight for u in units])
        self.people_by_sector: dict[str, list[int]] = {c: [] for c, _, _ in SECTORS}
        self.person_unit: list[int] = [0]  # index = person id
        self.person_loc: list[int] = [0]
        for unit, n in zip(units, alloc, strict=True):
            lead_titles, titles = TITLES[unit.kind]
            for i in range(n):
                title = lead_titles[0] if i == 0 else rng.choice(titles)
                pid = self._person(people, unit.id, unit.location_id, title,
                                   vip=(i == 0 and rng.random() < 0.15) or rng.random() < 0.008)
                self.people_by_sector[unit.sector].append(pid)
        self.callers = [p["id"] for p in people]
        self.people_rows = people

    def _person(self, people: list[dict[str, Any]], unit_id: int, loc_id: int, title: str,
                *, vip: bool = False, first: str | None = None, last: str | None = None,
                username: str | None = None) -> int:
        rng = self.rng
        first = first or rng.choice(self._firsts)
        last = last or rng.choice(self._lasts)
        if username is None:
            base = f"{_ascii(first)}.{_ascii(last)}"
            username, n = base, 2
            while username in self.usernames:
                username, n = f"{base}{n}", n + 1
        self.usernames.add(username)
        pid = len(self.person_unit)
        phone = f"+47 {90_000_000 + next(self._phones)}"
        email = f"{username}@{DOMAIN}"
        people.append({
            "id": pid, "username": username, "first_name": first, "last_name": last,
            "title": title, "phone": phone, "email": email, "org_unit_id": unit_id,
            "location_id": loc_id, "vip": vip, "active": True,
            "search": f"{first} {last} {username} {phone} {email}".lower(),
        })
        self.person_unit.append(unit_id)
        self.person_loc.append(loc_id)
        return pid

    # ---------------------------------------------------------------- teams and agents
    def teams(self) -> None:
        self.calendar_ids = {TEXT["office_hours"]: 1, TEXT["all_hours"]: 2}
        hours_office = {str(d): [["08:00", "15:45"]] for d in range(5)}
        hours_24 = {str(d): [["00:00", "24:00"]] for d in range(7)}
        self.w.insert(_t(m.Calendar), [
            {"id": 1, "name": TEXT["office_hours"], "tz": "Europe/Oslo",
             "hours": json.dumps(hours_office), "national_holidays": True},
            {"id": 2, "name": TEXT["all_hours"], "tz": "Europe/Oslo",
             "hours": json.dumps(hours_24),
             "national_holidays": False},
        ])
        days: list[dict[str, Any]] = []
        for y in [*self.years, self.today.year + 1]:
            for md, note in (((12, 24), TEXT["christmas_eve"]), ((12, 31), TEXT["new_years_eve"])):
                days.append({"id": len(days) + 1, "calendar_id": 1, "day": date(y, *md),
                             "hours": None, "note": note})
        self.w.insert(_t(m.CalendarDay), days)
        self.calendar_rows = {
            1: (m.Calendar(id=1, name=TEXT["office_hours"], tz="Europe/Oslo",
                           hours=json.dumps(hours_office), national_holidays=True),
                [m.CalendarDay(**d) for d in days]),
            2: (m.Calendar(id=2, name=TEXT["all_hours"], tz="Europe/Oslo",
                           hours=json.dumps(hours_24), national_holidays=False), []),
        }

        team_rows, self.team_ids, self.team_agents = [], {}, {}
        for i, (code, name, kind, _n) in enumerate(TEAMS, 1):
            self.team_ids[code] = i
            team_rows.append({"id": i, "code": code, "name": name, "kind": kind,
                              "email": f"{_slug(code, 20)}@{DOMAIN}",
                              "calendar_id": 2 if code == "DRIFT" else 1,
                              "lead_agent_id": None, "active": True})
        self.w.insert(_t(m.Team), team_rows)
        self.team_kind = {self.team_ids[c]: k for c, _, k, _ in TEAMS}

        people: list[dict[str, Any]] = []
        agents: list[dict[str, Any]] = []
        roles: list[dict[str, Any]] = []
        it = self.it_unit

        def agent(team: str | None, title: str, role_list: Iterable[str], *,
                  first: str | None = None, last: str | None = None,
                  username: str | None = None) -> int:
            pid = self._person(people, it.id, self.hq, title, first=first, last=last,
                               username=username)
            aid = len(agents) + 1
            uname = people[-1]["username"]
            agents.append({"id": aid, "username": uname, "person_id": pid,
                           "team_id": self.team_ids[team] if team else None, "active": True})
            roles.extend({"agent_id": aid, "role": r} for r in dict.fromkeys(role_list))
            self.agent_person[aid] = pid
            return aid

        self.agent_person: dict[int, int] = {}
        leads: dict[str, int] = {}
        for code, _name, kind, n in TEAMS:
            ids = []
            for i in range(n):
                if kind == "service_desk":
                    rl = ["first_line", *(["cab_member"] if i == 0 else [])]
                else:
                    rl = ["second_line", *(["service_owner", "cab_member"]
                                           if i == 0 and kind == "second_line" else [])]
                if code == "DRIFT" and i == 0:
                    rl.append("administrator")
                title = (TEXT["team_lead"] if i == 0 and kind != "supplier" else TEAM_TITLES[kind])
                ids.append(agent(code, title, rl))
            leads[code] = ids[0]
            self.team_agents[self.team_ids[code]] = ids
        self.change_manager = agent("DRIFT", TEXT["change_manager"],
                                    ["change_manager", "cab_member", "second_line"])
        self.team_agents[self.team_ids["DRIFT"]].append(self.change_manager)
        # customer managers, one per sector (the IT department's contact for that customer)
        self.customer_managers: dict[str, int] = {}
        for i, (code, _name, _cc) in enumerate(SECTORS):
            rl = ["customer_manager", *(["cab_member"] if i < 2 else [])]
            aid = agent(None, TEXT["customer_manager"], rl)
            self.customer_managers[code] = self.agent_person[aid]
        # Whoever ran `pob demo` (as identity.resolve_actor names them: the OS account on
        # SQLite, the login on PostgreSQL) becomes an administrator agent, created last with
        # the random state restored, so the rest of the data is the same whoever ran it.
        self.os_agent: int | None = None
        logins = [self.operator] if self.operator else []
        demo_roles = ["first_line", "second_line", "administrator", "change_manager",
                      "cab_member", "service_owner", "customer_manager"]
        for login in logins:
            state = self.rng.getstate()  # the extra login agent must not change the rest
            aid = agent("SD", TEXT["demo_agent_title"], demo_roles,
                        first=login.split(".")[0].capitalize() or "Demo",
                        last=TEXT["demo_last_name"], username=login)
            if login == logins[0]:
                self.os_agent = aid
            else:
                self.rng.setstate(state)
        self.people_rows.extend(people)
        self.w.insert(_t(m.Person), self.people_rows)
        self.w.insert(_t(m.Agent), agents)
        self.w.insert(_t(m.AgentRole), roles)
        self.agents = agents
        self.cab_members = sorted({r["agent_id"] for r in roles if r["role"] == "cab_member"
                                   and r["agent_id"] != self.os_agent})
        tt = _t(m.Team)
        self.w.conn.execute(
            update(tt).where(tt.c.id == bindparam("tid")).values(lead_agent_id=bindparam("aid")),
            [{"tid": self.team_ids[c], "aid": a} for c, a in leads.items()],
        )
        # every org unit gets its sector's customer manager
        ot = _t(m.OrgUnit)
        code_of = {v: k for k, v in self.sector_ids.items()}
        params = []
        for row in self.org_rows:
            sector = row["code"] if row["kind"] == "sector" else code_of[row["parent_id"]]
            params.append({"oid": row["id"], "mid": self.customer_managers[sector]})
        self.w.conn.execute(
            update(ot).where(ot.c.id == bindparam("oid"))
            .values(customer_manager_id=bindparam("mid")), params)
        self.unit_manager = {p["oid"]: p["mid"] for p in params}

    # ---------------------------------------------------------------- agreements
    def agreements(self) -> None:
        self.w.insert(_t(m.Agreement), [
            {"id": 1, "name": TEXT["agreements"][0], "customer_id": None, "calendar_id": 1,
             "valid_from": date(self.years[0], 1, 1), "valid_to": None, "is_default": True},
            {"id": 2, "name": TEXT["agreements"][1],
             "customer_id": self.sector_ids["HO"], "calendar_id": 2,
             "valid_from": date(self.years[0], 1, 1), "valid_to": None, "is_default": False},
            {"id": 3, "name": TEXT["agreements"][2],
             "customer_id": self.sector_ids["OPP"], "calendar_id": 1,
             "valid_from": date(self.years[0], 8, 1), "valid_to": None, "is_default": False},
        ])
        targets = {1: [(15, 240), (30, 480), (60, 930), (240, 2325), (480, 4650)],
                   2: [(15, 120), (30, 240), (60, 720), (240, 2880), (480, 7200)],
                   3: [(15, 240), (30, 480), (60, 700), (240, 1860), (480, 4650)]}
        self.sla_targets = targets
        rows: list[dict[str, Any]] = []
        for ag, ts in targets.items():
            for prio, (resp, res) in enumerate(ts, 1):
                rows.append({"id": len(rows) + 1, "agreement_id": ag, "priority": prio,
                             "response_minutes": resp, "resolution_minutes": res})
        self.w.insert(_t(m.SlaTarget), rows)
        ola = [(30, 240), (60, 480), (120, 2325), (480, 4650), (960, 9300)]
        self.ola_targets = ola
        rows = []
        for code, _n, kind, _a in TEAMS:
            if kind == "service_desk":
                continue
            for prio, (resp, res) in enumerate(ola, 1):
                rows.append({"id": len(rows) + 1, "team_id": self.team_ids[code],
                             "priority": prio, "response_minutes": resp,
                             "resolution_minutes": res})
        self.w.insert(_t(m.OlaTarget), rows)
