"""Issue 13 item 3: known errors offered for a call come from the chosen service and the
services it rests on, marked so; never silently from another service."""

from __future__ import annotations

import pytest
from sqlmodel import select

from pob_tui.errors import InvalidInput
from pob_tui.models import CiRelation, ConfigItem, Problem, Service, ServiceCi
from pob_tui.services import incidents as svc
from pob_tui.services import problems


def add_related(world) -> None:  # type: ignore[no-untyped-def]
    """M365 rests on EXO, which depends on AD (the login service's CI); Skoleportal is
    unrelated. Each has a known error whose symptoms mention Outlook."""
    with world.db.session() as s:
        m365 = s.exec(select(Service).where(Service.code == "M365")).one()
        login = Service(code="AD", name="Pålogging", search="ad")
        portal = Service(code="SKOLE", name="Skoleportal", search="skole")
        exo = ConfigItem(name="EXO", ci_class="application")
        ad = ConfigItem(name="AD-DC01", ci_class="server")
        web = ConfigItem(name="SKOLE-WEB", ci_class="server")
        s.add_all([login, portal, exo, ad, web])
        s.flush()
        s.add_all([ServiceCi(service_id=m365.id, ci_id=exo.id),
                   ServiceCi(service_id=login.id, ci_id=ad.id),
                   ServiceCi(service_id=portal.id, ci_id=web.id),
                   CiRelation(source_id=exo.id, target_id=ad.id, kind="depends_on")])
        s.add_all([
            Problem(number="PRB-000002", title="Passord utløpt gir innloggingsløkke",
                    symptoms="outlook ber om passord", known_error=True,
                    status="known_error", service_id=login.id,
                    workaround="Bytt passord på portalen."),
            Problem(number="PRB-000003", title="Utskrift fra portalen feiler",
                    symptoms="outlook vedlegg skriver ut blankt", known_error=True,
                    status="known_error", service_id=portal.id,
                    workaround="Velg skriveren Follow-me."),
        ])


def test_only_the_service_and_what_it_rests_on(world) -> None:
    add_related(world)
    with world.db.session() as s:
        m365 = s.exec(select(Service).where(Service.code == "M365")).one()
        rows = problems.search_known_errors(s, "outlook ber om passord", service_id=m365.id)
        assert [(r["number"], r["via"]) for r in rows] == [("PRB-000001", None),
                                                           ("PRB-000002", "Pålogging")]
        anywhere = problems.search_known_errors(s, "outlook")
        assert {r["number"] for r in anywhere} == {"PRB-000001", "PRB-000002", "PRB-000003"}
        assert all(r["other_service"] and r["service"] for r in anywhere)


def test_resolving_with_another_services_known_error_is_refused(world) -> None:
    add_related(world)
    with world.db.session() as s, pytest.raises(InvalidInput, match="Skoleportal"):
        svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="M365", summary="Outlook", known_error="PRB-000003"))
    with world.db.session() as s:
        inc = svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="M365", summary="Outlook", known_error="PRB-000002"))
        assert inc.status == "resolved"
