"""Demo step 3: configuration items (network, printers, clients, phones, servers) and
their relations."""

from __future__ import annotations

from typing import Any

import pob_tui.models as m
from pob_tui.demo.base import (
    _slug,
    _t,
)
from pob_tui.demo.catalog import CatalogSteps
from pob_tui.demo.data import TEXT


class CmdbSteps(CatalogSteps):
    # ---------------------------------------------------------------- cmdb
    def cmdb(self) -> None:
        rng, sc = self.rng, self.sc
        cis: list[dict[str, Any]] = []
        rels: list[dict[str, Any]] = []
        t = self.team_ids

        def ci(name: str, cls: str, loc: int | None, team: str | int, person: int | None = None,
               status: str = "in_use", desc: str | None = None) -> int:
            cid = len(cis) + 1
            cis.append({"id": cid, "name": name, "ci_class": cls, "status": status,
                        "location_id": loc, "owner_team_id": t[team] if isinstance(team, str)
                        else team, "person_id": person,
                        "serial": f"SN{rng.getrandbits(40):010X}", "description": desc})
            return cid

        def rel(src: int, dst: int, kind: str) -> None:
            rels.append({"id": len(rels) + 1, "source_id": src, "target_id": dst, "kind": kind})

        core = [ci(f"core-rt-0{i}", "network", self.hq, "NETT", desc=TEXT["core_router"])
                for i in (1, 2)]
        ring = {}
        for r in (1, 2, 3):
            ring[r] = ci(f"ring{r}-rt-01", "network", self.hq, "NETT",
                         desc=TEXT["ring_router"].format(ring=r))
            for c in core:
                rel(ring[r], c, "connects_to")
        switches: dict[int, list[int]] = {}
        printers: dict[int, list[int]] = {}
        pupil_n = 0
        for loc in self.locations:
            code = loc["code"].lower()
            n_sw = {"office": 6, "school": 4, "nursing_home": 4}.get(loc["kind"], 2)
            switches[loc["id"]] = [ci(f"sw-{code}-{i:02d}", "network", loc["id"], "NETT",
                                      desc=TEXT["access_switch"]) for i in range(1, n_sw + 1)]
            for sw in switches[loc["id"]]:
                rel(sw, ring[loc["ring"]], "connects_to")
            n_pr = {"office": 8, "school": 4, "nursing_home": 3}.get(loc["kind"], 1)
            printers[loc["id"]] = []
            for i in range(1, n_pr + 1):
                prn = ci(f"prn-{code}-{i:02d}", "printer", loc["id"], "KLU",
                       desc=rng.choice(TEXT["printers"]))
                printers[loc["id"]].append(prn)
                rel(prn, rng.choice(switches[loc["id"]]), "connects_to")
            if loc["kind"] == "school":
                for i in range(1, sc.pupil_devices + 1):
                    pupil_n += 1
                    d = ci(f"elev-{code}-{i:03d}", "client", loc["id"], "FSK",
                           desc=TEXT["pupil_device"])
                    rel(d, rng.choice(switches[loc["id"]]), "connects_to")
        self.printers = printers
        # clients and phones for people
        self.person_pc: dict[int, int] = {}
        self.person_phone: dict[int, int] = {}
        for p in self.people_rows:
            pid, loc = p["id"], p["location_id"]
            if rng.random() < 0.6 or pid in self.agent_person.values():
                status = "retired" if rng.random() < 0.02 else "in_use"
                c = ci(f"PK-PC-{len(self.person_pc) + 1:05d}", "client", loc, "KLU", pid,
                       status, rng.choice(TEXT["computers"]))
                self.person_pc[pid] = c
                rel(c, rng.choice(switches[loc]), "connects_to")
            if rng.random() < sc.phones_per_person:
                self.person_phone[pid] = ci(f"PK-MOB-{len(self.person_phone) + 1:05d}", "phone",
                                            loc, "TEL", pid, desc=TEXT["mobile"])
        # servers, databases and applications per service
        dc = self.office_ids[min(6, len(self.office_ids) - 1)]
        storage = [ci(f"san-0{i}", "storage", dc, "DRIFT", desc=TEXT["storage"]) for i in (1, 2)]
        sci: list[dict[str, Any]] = []
        self.svc_ci: dict[int, list[int]] = {}
        slugs: dict[str, int] = {}
        for s in self.svc:
            slug = _slug(s["name"], 10) or "svc"
            slugs[slug] = slugs.get(slug, 0) + 1
            if slugs[slug] > 1:
                slug = f"{slug}{slugs[slug]}"
            status = {"planned": "planned", "retired": "retired"}.get(s["life"], "in_use")
            app = ci(s["name"], "application", None, s["team"], status=status,
                     desc=TEXT["application"].format(service=s["name"]))
            n_srv = 1 if s["pop"] < 5 else (2 if s["pop"] < 20 else 3)
            srvs = [ci(f"pk-{slug}-app{i:02d}", "server", dc, "DRIFT", status=status,
                       desc=TEXT["app_server"]) for i in range(1, n_srv + 1)]
            for srv in srvs:
                rel(app, srv, "runs_on")
                rel(srv, rng.choice(storage), "depends_on")
            if rng.random() < 0.8:
                db_srv = ci(f"pk-{slug}-db01", "server", dc, "DRIFT", status=status,
                            desc=TEXT["db_server"])
                db = ci(f"db-{slug}", "database", dc, "DRIFT", status=status,
                        desc=rng.choice(TEXT["databases"]))
                rel(db, db_srv, "runs_on")
                rel(app, db, "depends_on")
            sci.append({"service_id": s["id"], "ci_id": app})
            sci.extend({"service_id": s["id"], "ci_id": srv} for srv in srvs)
            self.svc_ci[s["id"]] = [app, *srvs]
        self.w.insert(_t(m.ConfigItem), cis)
        self.w.insert(_t(m.CiRelation), rels)
        self.w.insert(_t(m.ServiceCi), sci)
        self.switches = switches
