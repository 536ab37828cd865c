"""Demo step 2: the service catalog, quick calls, costs, funding, subscriptions and usage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table

import pob_tui.models as m
from pob_tui.demo.base import (
    CHUNK,
    _money,
    _t,
    _Unit,
    _weighted,
)
from pob_tui.demo.data import (
    CATEGORY_SECTOR,
    DOMAIN_SECTOR,
    HEALTH_24_7,
    QUICK_CALLS,
    SCHOOL_SERVICES,
    TEAMS,
    TEXT,
    _data_json,
)
from pob_tui.demo.org import OrgSteps


class CatalogSteps(OrgSteps):
    # ---------------------------------------------------------------- catalog
    def catalog(self) -> None:
        rng, sc = self.rng, self.sc
        data = _data_json("services.json")
        base = [list(s) for s in data["services"]]
        if sc.services < len(base):
            keep = sorted(range(len(base)), key=lambda i: (-base[i][5], i))[: sc.services]
            base = [base[i] for i in sorted(keep)]
        combos = [(d, p) for d in data["generated_domains"] for p in data["generated_products"]]
        rng.shuffle(combos)
        for d, p in combos[: max(0, sc.services - len(base))]:
            base.append([f"{d} – {p}", "Fagapplikasjon", data["generated_teams"][d],
                         f"{d.lower()} {p}", f"domain:{d}", round(rng.uniform(0.2, 1.6), 2),
                         3, 3])
        services: list[dict[str, Any]] = []
        self.svc: list[dict[str, Any]] = []  # per service: generation facts
        owner_of = {"LV-VISMA": "SAK", "LV-TIETO": "SAK", "LV-ATEA": "KLU", "SD": "KLU"}
        for i, (name, cat, team, kw, aud, pop, imp, urg) in enumerate(base, 1):
            if "fases ut" in name:
                life = "retiring"
            elif cat == "Fagapplikasjon":
                life = _weighted(rng, [("live", 85), ("retiring", 8), ("planned", 4),
                                       ("retired", 3)])
            else:
                life = "live"
            owner_team = owner_of.get(team, team)
            owner_person = self.agent_person[self.team_agents[self.team_ids[owner_team]][0]]
            code = f"SVC-{i:04d}"
            desc = TEXT["service_description"].format(
                name=name, category=cat.lower(),
                team=dict((c, n) for c, n, _k, _a in TEAMS)[team])
            services.append({
                "id": i, "code": code, "name": name, "description": desc, "keywords": kw,
                "category": cat, "owner_team_id": self.team_ids[owner_team],
                "support_team_id": self.team_ids[team], "owner_person_id": owner_person,
                "lifecycle": life, "default_impact": imp, "default_urgency": urg,
                "search": f"{code} {name} {kw} {cat}".lower(),
            })
            barely = life in ("retiring", "retired") or (
                cat == "Fagapplikasjon" and rng.random() < 0.06)
            self.svc.append({"id": i, "name": name, "cat": cat, "team": self.team_ids[team],
                             "aud": aud, "pop": float(pop), "life": life, "barely": barely,
                             "imp": imp, "urg": urg})
        self.w.insert(_t(m.Service), services)
        by_name = {svc["name"]: svc["id"] for svc in services if svc["lifecycle"] == "live"}
        self.w.insert(_t(m.CallTemplate), [
            {"id": i, "name": name, "service_id": by_name[service], "summary": summary,
             "impact": imp, "urgency": urg, "resolution_code": code, "resolution_note": note}
            for i, (name, service, summary, imp, urg, code, note)
            in enumerate((t for t in QUICK_CALLS if t[1] in by_name), 1)])
        by_name = {s["name"]: s["id"] for s in services}
        self.w.insert(_t(m.AgreementService), [
            {"agreement_id": ag, "service_id": by_name[name]}
            for ag, names in ((2, HEALTH_24_7), (3, SCHOOL_SERVICES))
            for name in names if name in by_name
        ])

        # costs per service per year (grown ~3.5 % a year towards today)
        costs: list[dict[str, Any]] = []
        shares = {"licence": 1.0, "infrastructure": 0.35, "personnel": 0.5, "external": 0.25}
        for s in self.svc:
            base_amount = max(40_000.0, s["pop"] * 95_000) * rng.uniform(0.6, 1.4)
            kinds = [k for k in shares if k == "licence" or rng.random() < 0.7]
            for y in self.years:
                if s["life"] == "planned" and y < self.today.year:
                    continue
                factor = 1.035 ** (y - self.today.year)
                for k in kinds:
                    amount = base_amount * shares[k] * factor * rng.uniform(0.9, 1.1)
                    costs.append({"id": len(costs) + 1, "service_id": s["id"], "year": y,
                                  "kind": k, "amount": _money(amount), "note": None})
        self.w.insert(_t(m.ServiceCost), costs)
        funding: list[dict[str, Any]] = []
        for code, sid in self.sector_ids.items():
            base_amount = rng.uniform(6e6, 40e6) * (2 if code in ("OPP", "HO") else 1)
            for y in self.years:
                funding.append({"id": len(funding) + 1, "org_unit_id": sid, "year": y,
                                "amount": _money(base_amount * 1.03 ** (y - self.today.year))})
        self.w.insert(_t(m.Funding), funding)

        # subscriptions: org units for broad services, people for specialist systems
        subs: list[dict[str, Any]] = []
        self.person_subs: dict[int, list[tuple[int, date, date | None]]] = {}
        first_year = self.years[0] - 3
        units_by_kind: dict[str, list[_Unit]] = {}
        for u in self.units:
            units_by_kind.setdefault(u.kind, []).append(u)

        def sub(sid: int, unit: int | None, person: int | None, frm: date,
                to: date | None) -> None:
            subs.append({"id": len(subs) + 1, "service_id": sid, "org_unit_id": unit,
                         "person_id": person, "valid_from": frm, "valid_to": to})

        for s in self.svc:
            aud = s["aud"]
            if s["life"] == "planned":
                continue
            frm = date(first_year + rng.randint(0, 3), rng.randint(1, 12), 1)
            to = (self.today - timedelta(days=rng.randint(30, 300))
                  if s["life"] == "retired" else None)
            if aud == "all":
                for sector_id in self.sector_ids.values():
                    sub(s["id"], sector_id, None, frm, to)
                s["pool"] = self.callers
            elif aud.startswith("sector:"):
                code = aud.split(":")[1]
                sub(s["id"], self.sector_ids[code], None, frm, to)
                s["pool"] = self.people_by_sector[code]
            elif aud.startswith("kind:"):
                kind = aud.split(":")[1]
                kind_units = {u.id for u in units_by_kind.get(kind, [])}
                for u in units_by_kind.get(kind, []):
                    sub(s["id"], u.id, None, frm, to)
                s["pool"] = [p for p in self.callers if self.person_unit[p] in kind_units]
            else:
                sector = (DOMAIN_SECTOR.get(aud.split(":")[1], "OK") if aud.startswith("domain:")
                          else CATEGORY_SECTOR.get(s["cat"], "OK"))
                pool = self.people_by_sector[sector] or self.callers
                n = max(2, min(len(pool), int(s["pop"] * sc.people / 900 * rng.uniform(0.7, 1.3))))
                chosen = rng.sample(pool, n)
                s["pool"] = chosen
                s["person"] = True
                for p in chosen:
                    pfrom = max(frm, self.today - timedelta(days=rng.randint(60, 365 * 5)))
                    pto = to
                    if pto is None and rng.random() < 0.08:
                        pto = self.today - timedelta(days=rng.randint(10, 300))
                    sub(s["id"], None, p, pfrom, pto)
                    self.person_subs.setdefault(s["id"], []).append((p, pfrom, pto))
        self.w.insert(_t(m.Subscription), subs)

    # ---------------------------------------------------------------- usage
    def usage(self) -> None:
        rng, sc = self.rng, self.sc
        months: list[date] = []
        y, mo = self.today.year, self.today.month
        for _ in range(12):
            months.append(date(y, mo, 1))
            y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
        months.reverse()
        rows: list[dict[str, Any]] = []
        table = _t(m.UsageRecord)
        for s in self.svc:
            if s["life"] == "planned" or not s.get("pool"):
                continue
            if s.get("person"):
                holders = self.person_subs.get(s["id"], [])
            else:
                k = min(len(s["pool"]), max(5, int(len(s["pool"]) * sc.usage_sample)))
                holders = [(p, date(1900, 1, 1), None) for p in rng.sample(s["pool"], k)]
            if s["barely"]:
                stop = rng.randint(3, 12)  # months since anyone used it
                active = rng.uniform(0.02, 0.15)
            else:
                stop, active = 0, rng.uniform(0.55, 0.95)
            for p, frm, to in holders:
                for i, month in enumerate(months):
                    if i >= 12 - stop or month < frm.replace(day=1) or (to and month > to):
                        continue
                    if rng.random() < active:
                        rows.append({"id": 0, "service_id": s["id"], "person_id": p,
                                     "month": month, "uses": rng.randint(1, 80)})
            if len(rows) >= CHUNK * 5:
                self._flush_usage(table, rows)
        self._flush_usage(table, rows)

    def _flush_usage(self, table: Table, rows: list[dict[str, Any]]) -> None:
        start = self.w.counts.get(table.name, 0)
        for i, r in enumerate(rows, start + 1):
            r["id"] = i
        self.w.insert(table, rows)
        rows.clear()
