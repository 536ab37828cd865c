"""Seeded, scalable generator of a believable Norwegian municipality for demos, tests and
benchmarks.

Why it looks the way it does:

* Rows are built as plain dicts with explicit integer ids and written with SQLAlchemy Core
  executemany in chunks: ORM objects would be ~20x slower at 500,000 incidents.
* All randomness comes from one ``random.Random(seed)`` and "now" is derived from ``today``
  only, so the same seed and day give the same database (tests fingerprint it).
* Incidents are made and written a calendar month at a time, so the ten-year ``history``
  scale never holds more than one month of tickets in memory.
* Everything happens in one transaction: a failed run leaves the database as it was.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Connection, Table, bindparam, func, select, text, update
from sqlmodel import SQLModel

import pob_tui.models as m
from pob_tui.db import (
    SQLITE_BEGIN,
    ensure_schema,
    gather_statistics,
    make_engine,
    prepare_sqlite,
    safe_url,
)
from pob_tui.errors import InvalidInput
from pob_tui.models.incident import PRIORITY_MATRIX
from pob_tui.services.numbers import format_number

__all__ = ["SCALES", "DemoSummary", "Scale", "generate"]

OSLO = ZoneInfo("Europe/Oslo")
DOMAIN = "pob-kommune.no"
CHUNK = 10_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scale:
    """How big the generated municipality is."""

    name: str
    people: int
    services: int
    locations: int
    days: int  # days of ticket history ending today
    calls: tuple[int, int]  # incidents per working day (low, high)
    pupil_devices: int  # pooled pupil devices per school
    phones_per_person: float
    usage_sample: float  # share of a broad service's users that get usage records


SCALES: dict[str, Scale] = {
    "small": Scale("small", 400, 40, 20, 60, (13, 17), 8, 0.3, 0.05),
    "municipality": Scale("municipality", 12_000, 300, 250, 365, (150, 200), 190, 0.8, 0.03),
    "history": Scale("history", 12_000, 300, 250, 3652, (150, 200), 190, 0.8, 0.03),
}


@dataclass
class DemoSummary:
    """What was generated: rows per entity, seconds per step and in total."""

    scale: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def __getattr__(self, name: str) -> int:
        """`summary.incidents`, `summary.people`, ... (table names work too)."""
        counts: dict[str, int] = self.__dict__.get("counts", {})
        key = _ALIASES.get(name, name)
        if key in counts:
            return counts[key]
        raise AttributeError(name)


_ALIASES = {"people": "person", "incidents": "incident", "problems": "problem",
            "changes": "change_request", "services": "service", "locations": "location",
            "org_units": "org_unit", "agents": "agent", "teams": "team",
            "config_items": "config_item", "cis": "config_item", "events": "ticket_event",
            "ticket_events": "ticket_event", "usage_records": "usage_record",
            "subscriptions": "subscription", "cab_meetings": "cab_meeting",
            "follow_ups": "follow_up", "relations": "ci_relation"}


# --------------------------------------------------------------------------- static data

QUICK_CALLS = [  # name, service, summary, impact, urgency, resolution code, note
    ("Passord utløpt", "Brukerkonto og passord", "Passordet er utløpt", 3, 3, "solved",
     "Passord tilbakestilt; brukeren byttet passord ved pålogging."),
    ("Konto låst", "Brukerkonto og passord", "Kontoen er låst etter for mange forsøk", 3, 2,
     "solved", "Kontoen låst opp; brukeren logget inn igjen."),
    ("MFA ny telefon", "Tofaktorautentisering (MFA)", "Ny telefon: må registrere MFA på nytt",
     3, 2, "solved", "MFA nullstilt; brukeren registrerte den nye telefonen."),
    ("Utskriftskø står", "Skriver og utskrift", "Utskriftskøen står fast", 3, 3, "solved",
     "Utskriftskøen tømt og skriveren startet på nytt."),
    ("Skriver frakoblet", "Skriver og utskrift", "Skriveren vises som frakoblet", 3, 3, None,
     None),
    ("VPN hjemmefra", "VPN og hjemmekontor", "Får ikke koblet til VPN hjemmefra", 3, 2, None,
     None),
    ("Delt postkasse", "E-post", "Trenger tilgang til en delt postkasse", 3, 3, None, None),
    ("Teams uten lyd", "Teams", "Ingen lyd i Teams-møter", 3, 2, "user_error",
     "Riktig lydenhet valgt i Teams."),
    ("Gjestenett", "Trådløst nett (Wi-Fi)", "Trenger gjestetilgang til trådløst nett", 3, 3,
     "solved", "Gjestekode sendt på SMS."),
    ("Hjemmeområdet fullt", "Filområder og hjemmeområde", "Hjemmeområdet er fullt", 3, 3,
     None, None),
]

SECTORS = [  # code, name, cost-centre prefix
    ("OK", "Organisasjon og økonomi", "1"),
    ("OPP", "Oppvekst", "2"),
    ("HO", "Helse og omsorg", "3"),
    ("TM", "Teknikk og miljø", "4"),
    ("KI", "Kultur og idrett", "5"),
    ("SU", "Samfunnsutvikling", "6"),
]

# location kind: (count at 250 locations, sector, people weight, name patterns)
LOCATION_KINDS: dict[str, tuple[int, str, int, tuple[str, ...]]] = {
    "office": (20, "OK", 0, ()),
    "school": (55, "OPP", 60, ("{p} skole", "{p} skole", "{p} ungdomsskole")),
    "kindergarten": (75, "OPP", 18, ("{p} barnehage",)),
    "nursing_home": (15, "HO", 70, ("{p} bo- og behandlingssenter", "{p} sykehjem")),
    "home_care": (8, "HO", 55, ("Hjemmetjenesten {p}",)),
    "health": (12, "HO", 18, ("Helsestasjon {p}",)),
    "housing": (12, "HO", 25, ("{p} omsorgsboliger",)),
    "fire_station": (6, "TM", 25, ("{p} brannstasjon",)),
    "depot": (14, "TM", 12, ("{p} driftsstasjon", "{p} pumpestasjon")),
    "library": (6, "KI", 8, ("{p} bibliotek",)),
    "culture": (12, "KI", 7, ("Kulturhuset {p}", "{p} fritidsklubb")),
    "sports": (15, "KI", 3, ("{p} idrettshall", "{p} svømmehall")),
}
SMALL_KIND_COUNTS = {"office": 3, "school": 4, "kindergarten": 5, "nursing_home": 2,
                     "home_care": 1, "health": 1, "fire_station": 1, "depot": 1, "library": 1,
                     "culture": 1}

OFFICES = [  # name, place
    ("Rådhuset Sandvika", "Sandvika"), ("Kommunegården Kinoveien", "Sandvika"),
    ("Teknisk senter Hauger", "Hauger"), ("Servicetorget Bekkestua", "Bekkestua"),
    ("Legevakten Gjettum", "Gjettum"), ("NAV-kontoret Sandvika", "Sandvika"),
    ("Datasenter Kolsås", "Kolsås"), ("Administrasjonsbygg Fornebu", "Fornebu"),
    ("Kontorbygg Lysaker", "Lysaker"), ("Kommunegården Stabekk", "Stabekk"),
    ("Skolekontoret Bekkestua", "Bekkestua"), ("Eiendomsforvaltningen Rud", "Rud"),
    ("Barnevernstjenesten Sandvika", "Sandvika"), ("Kontorbygg Høvik", "Høvik"),
    ("Tildelingskontoret Bærums Verk", "Bærums Verk"), ("Kontorbygg Østerås", "Østerås"),
    ("Kulturkontoret Sandvika", "Sandvika"), ("Kontorbygg Rykkinn", "Rykkinn"),
    ("Kontorbygg Eiksmarka", "Eiksmarka"), ("Kontorbygg Jar", "Jar"),
]

# Administrative units: sector, name, people weight, office index
ADMIN_UNITS = [
    ("OK", "Sentraladministrasjonen", 30, 0), ("OK", "IT-avdelingen", 0, 0),
    ("OK", "Økonomi og virksomhetsstyring", 35, 0), ("OK", "Lønn og personal", 30, 1),
    ("OK", "Kommunikasjon", 12, 0), ("OK", "Dokumentsenteret", 20, 1),
    ("OK", "Innkjøp", 12, 1), ("OK", "Servicetorget", 15, 3),
    ("OK", "Politisk sekretariat", 8, 0),
    ("SU", "Byggesak", 40, 2), ("SU", "Plan og miljø", 30, 2), ("SU", "Geodata", 15, 2),
    ("SU", "Næring og samfunn", 10, 0), ("SU", "Eiendom", 45, 11),
    ("HO", "NAV Bærum", 90, 5), ("HO", "Legevakt", 45, 4), ("HO", "Barnevern", 60, 12),
    ("HO", "Tildelingskontoret", 25, 14), ("HO", "Psykisk helse og rus", 50, 13),
    ("HO", "Flyktningetjenesten", 20, 8),
    ("OPP", "Skolekontoret", 20, 10), ("OPP", "Barnehagekontoret", 15, 10),
    ("OPP", "PPT", 30, 10),
    ("TM", "Vei og trafikk", 35, 2), ("TM", "Vann og avløp", 40, 2),
    ("TM", "Renovasjon", 20, 2), ("TM", "Park og idrett", 25, 2),
    ("KI", "Kulturkontoret", 15, 16), ("KI", "Kulturskolen", 40, 16),
]

TITLES = {
    "school": (["Rektor"], ["Lærer", "Lærer", "Lektor", "Lektor", "Lærer", "Assistent",
                            "Spesialpedagog", "Miljøterapeut", "Inspektør", "SFO-leder"]),
    "kindergarten": (["Styrer"], ["Barnehagelærer", "Pedagogisk leder", "Barne- og "
                                  "ungdomsarbeider", "Assistent", "Assistent"]),
    "nursing_home": (["Virksomhetsleder"], ["Sykepleier", "Helsefagarbeider",
                                           "Helsefagarbeider", "Avdelingsleder", "Lege",
                                           "Fysioterapeut", "Ergoterapeut", "Assistent"]),
    "home_care": (["Enhetsleder"], ["Sykepleier", "Helsefagarbeider", "Hjemmehjelp",
                                    "Vernepleier", "Koordinator"]),
    "health": (["Enhetsleder"], ["Helsesykepleier", "Jordmor", "Lege", "Fysioterapeut"]),
    "housing": (["Enhetsleder"], ["Vernepleier", "Miljøarbeider", "Helsefagarbeider"]),
    "fire_station": (["Stasjonssjef"], ["Brannkonstabel", "Utrykningsleder",
                                        "Brannforebygger"]),
    "depot": (["Driftsleder"], ["Driftsoperatør", "Fagarbeider", "Maskinfører"]),
    "library": (["Biblioteksjef"], ["Bibliotekar", "Biblioteksassistent"]),
    "culture": (["Enhetsleder"], ["Kulturarbeider", "Miljøarbeider", "Konsulent"]),
    "sports": (["Driftsleder"], ["Vaktmester", "Badevakt"]),
    "office": (["Avdelingsleder"], ["Rådgiver", "Seniorrådgiver", "Saksbehandler",
                                    "Konsulent", "Rådgiver", "Spesialrådgiver", "Ingeniør",
                                    "Jurist", "Controller", "Arkivar"]),
}

TEAMS = [  # code, name, kind, agents
    ("SD", "Servicedesk", "service_desk", 10),
    ("KLU", "Klient og utskrift", "second_line", 5),
    ("NETT", "Nettverk", "second_line", 4),
    ("DRIFT", "Server og drift", "second_line", 5),
    ("FHE", "Fagsystemer helse", "second_line", 4),
    ("FSK", "Fagsystemer skole", "second_line", 4),
    ("SAK", "Sak/arkiv og dokumentasjon", "second_line", 3),
    ("TEL", "Telefoni", "second_line", 3),
    ("LV-VISMA", "Leverandør: Visma", "supplier", 2),
    ("LV-TIETO", "Leverandør: Tietoevry", "supplier", 2),
    ("LV-ATEA", "Leverandør: Atea", "supplier", 2),
]
TEAM_TITLES = {"service_desk": "IT-konsulent, Servicedesk", "second_line": "IT-konsulent",
               "supplier": "Konsulent (leverandør)"}

CATEGORY_SECTOR = {"Fagsystem helse": "HO", "Fagsystem skole": "OPP",
                   "Teknikk og geodata": "TM", "Kultur": "KI", "Sak og arkiv": "OK",
                   "Økonomi og personal": "OK", "Infrastruktur": "OK", "Sikkerhet": "OK"}
DOMAIN_SECTOR = {"Byggesak": "SU", "Eiendomsskatt": "OK", "Vann og avløp": "TM",
                 "Renovasjon": "TM", "Barnevern": "HO", "Helsestasjon": "HO", "PPT": "OPP",
                 "Kultur": "KI", "Idrett": "KI", "Bibliotek": "KI", "Skole": "OPP",
                 "Barnehage": "OPP", "Legevakt": "HO", "Hjemmetjeneste": "HO", "Plan": "SU",
                 "Geodata": "SU", "Lønn": "OK", "Økonomi": "OK", "Innkjøp": "OK",
                 "Personal": "OK", "NAV": "HO", "Flyktning": "HO", "Boligkontor": "HO",
                 "Frivillighet": "KI", "Folkehelse": "HO", "Vei og trafikk": "TM",
                 "Park og idrett": "TM", "Brann og redning": "TM"}

SUMMARIES: dict[str, list[str]] = {
    "Klient": ["Treg maskin", "PC-en starter ikke", "Blå skjerm ved oppstart",
               "Dokkingstasjon gir ikke bilde på skjermen", "Tastatur og mus virker ikke",
               "Får ikke installert programvare", "Lite diskplass på PC", "Bærbar lader ikke",
               "Oppdateringer henger ved omstart", "Kamera virker ikke i Teams",
               "Skjermen flimrer"],
    "Utskrift": ["Skriveren skriver ikke ut", "Papirstopp i skriveren",
                 "Utskriften blir stående i kø", "Får ikke lagt til skriver",
                 "Skanning til e-post virker ikke", "Tomt for toner",
                 "Adgangskortet virker ikke på skriveren"],
    "Tilgang": ["Passord utløpt", "Konto låst", "Får ikke logget inn i {service}",
                "Ny telefon – MFA må settes opp på nytt", "Mangler tilgang til fellesområde",
                "Trenger tilgang til {service}", "Ny ansatt mangler brukerkonto",
                "Passord utløpt", "Konto låst etter feil passord"],
    "Samhandling": ["Outlook starter ikke", "Får ikke sendt e-post",
                    "Mangler tilgang til delt postboks", "Ingen lyd i Teams-møte",
                    "OneDrive synkroniserer ikke", "Ser ikke kollegas kalender",
                    "Excel krasjer ved åpning av fil", "Videoutstyret i møterommet virker ikke"],
    "Nettverk": ["Ingen nettverkstilgang", "Trådløst nett faller ut", "VPN kobler ikke til",
                 "Tregt nett på {location}", "Får ikke koblet til gjestenettet"],
    "Telefoni": ["Mobilen får ikke hentet e-post", "Ny mobil må settes opp",
                 "Knust skjerm på mobilen", "Viderekobling virker ikke",
                 "SIM-kortet er sperret (PUK)"],
    "Lagring": ["Mangler tilgang til mappe på fellesområdet", "Slettet fil må gjenopprettes",
                "Fellesområdet er fullt"],
    "Fagsystem helse": ["Meldinger fra sykehuset kommer ikke inn i {service}",
                        "Nettbrettet for mobil omsorg synkroniserer ikke",
                        "Trygghetsalarm gir ikke varsel", "Vaktbok viser feil i {service}"],
    "Fagsystem skole": ["Elev får ikke logget inn på Chromebook",
                        "Fravær blir ikke registrert i {service}",
                        "Foresatte får ikke meldinger fra {service}",
                        "Timeplanen vises feil i {service}"],
    "Sak og arkiv": ["Får ikke journalført e-post i {service}", "Dokumentet er låst for redigering",
                     "Forsendelse via SvarUt feilet", "Mal mangler i {service}"],
    "Økonomi og personal": ["Faktura står fast i attesteringsflyten", "Lønnsslippen vises ikke",
                            "Vaktboka viser feil turnus", "Reiseregningen lar seg ikke sende"],
    "Infrastruktur": ["Alarm: disk nesten full på server", "Alarm: {service} svarer ikke",
                      "Sikkerhetskopien feilet i natt", "Sertifikatet for {service} går ut"],
    "Sikkerhet": ["Mistenkelig e-post (phishing)", "Adgangskortet virker ikke",
                  "Klikket på lenke i phishing-e-post", "Døra på {location} låser ikke"],
}
GENERIC_SUMMARIES = ["Får ikke logget inn i {service}", "Feilmelding ved lagring i {service}",
                     "{service} er tregt", "{service} henger ved oppstart",
                     "Mangler rettigheter i {service}", "Rapport i {service} gir feil tall",
                     "Integrasjonen fra {service} har stoppet",
                     "Utskrift fra {service} virker ikke"]
MONITORING = ["Alarm: {service} svarer ikke", "Alarm: høy CPU på server for {service}",
              "Alarm: disk nesten full på server for {service}",
              "Alarm: svitsj på {location} er nede"]
CHANNEL_INTRO = {"phone": "Bruker ringer: ", "email": "E-post fra bruker: ",
                 "self_service": "Meldt i selvbetjeningsportalen: ",
                 "walk_in": "Kom innom Servicetorget: ", "monitoring": "Varsel fra overvåkingen: "}
DETAILS = ["Gjelder hele avdelingen.", "Har prøvd å starte på nytt.",
           "Haster, har møte om en time.",
           "Feilen kom etter oppdateringen i går.", "Kollegaer har samme problem.",
           "Skjedde første gang i morges.", "Feilmelding vedlagt som skjermbilde.",
           "Bruker jobber hjemmefra i dag.", ""]
WORK_NOTES = ["Fjernstyrt maskinen og ryddet profilen.",
              "Tilbakestilt passord, verifisert innlogging.",
              "Kontaktet leverandør, venter på svar.", "Sjekket logger på serveren.",
              "Restartet tjenesten.", "Oppdatert driver og testet med bruker.",
              "Gitt tilgang via IDM etter godkjenning fra leder.", "Ringt bruker, ikke svar.",
              "Feilsøkt sammen med bruker over Teams."]
RESOLUTIONS = [  # code, note, weight
    ("user_guidance", "Veiledet bruker, løst.", 30),
    ("password_reset", "Passord tilbakestilt.", 14),
    ("configuration", "Rettet innstilling/tilgang.", 20),
    ("workaround", "Midlertidig løsning gitt.", 8),
    ("hardware_replaced", "Utstyr byttet.", 6),
    ("supplier_fix", "Rettet av leverandør.", 5),
    ("no_fault_found", "Fant ingen feil, bruker bekrefter at det virker nå.", 9),
    ("restart", "Restart løste problemet.", 8),
]
GOOD_COMMENTS = ["Rask og hyggelig hjelp!", "Takk for god hjelp.", "Supert, løst med en gang.", ""]
BAD_COMMENTS = ["Tok altfor lang tid.", "Ble ikke ringt tilbake som lovet.",
                "Problemet kom tilbake dagen etter.", "Måtte forklare alt på nytt flere ganger."]
WORKAROUNDS = ["Logg ut og inn igjen, og tøm nettleserens hurtigbuffer.",
               "Bruk nettleserversjonen til feilen er rettet.",
               "Start klienten på nytt med Ctrl+Shift ved oppstart.",
               "Skriv ut via PDF og send til skriveren manuelt.",
               "Registrer på papirskjema og etterregistrer når systemet er oppe.",
               "Koble til kablet nett i stedet for trådløst."]
ROOT_CAUSES = ["Feil i siste versjon fra leverandøren.", "Utløpt sertifikat på integrasjonsserver.",
               "Feilkonfigurert gruppepolicy.", "Minnelekkasje i applikasjonstjenesten.",
               "Full transaksjonslogg på databaseserveren.", "Defekt svitsj i fiberringen."]
CHANGE_TITLES = ["Oppgradering av {service} til versjon {v}",
                 "Migrering av {service} til ny server",
                 "Sertifikatfornyelse for {service}", "Ny brannmurregel for {service}",
                 "Utskifting av svitsj på {location}",
                 "Oppgradering av trådløst nett på {location}",
                 "Patching av servere for {service}", "Endring av integrasjon for {service}",
                 "Utvidelse av lagring for {service}", "Ny versjon av klientpakke for {service}"]
CHANGE_TEMPLATES = [
    ("Månedlig sikkerhetsoppdatering av klienter", "KLU"),
    ("Utvide diskplass på virtuell server", "DRIFT"),
    ("Legge til VLAN på aksesssvitsj", "NETT"),
    ("Fornye SSL-sertifikat", "DRIFT"),
    ("Opprette ny delt postboks", "KLU"),
    ("Restart av applikasjonsserver i vedlikeholdsvindu", "DRIFT"),
    ("Bytte vedlikeholdssett på skriver", "KLU"),
    ("Oppdatere nummerplan i sentralbord", "TEL"),
]
RISK_REASONS = {
    "low": ["Få brukere berøres", "Testet i testmiljø"],
    "medium": ["Berører flere enheter", "Tilbakerulling tar over en time",
               "Endring i fagsystem med mange brukere", "Leverandøren utfører endringen"],
    "high": ["Kritisk helsesystem berøres", "Mer enn 1000 brukere berøres", "Ingen testmiljø",
             "Nedetid i åpningstid", "Berører kjernenettet"],
}
HEALTH_24_7 = ("Gerica", "Gerica mobil omsorg", "Profil", "CosDoc (legevakt)",
               "Helsenett og e-meldinger", "Velferdsteknologi", "Medikamentrom og e-resept",
               "Turnus (Visma Ressursstyring)")
SCHOOL_SERVICES = ("Visma Flyt Skole", "Vigilo", "Skoleportal", "Elev-PC og Chromebook",
                   "Læringsplattform (Teams for skole)", "Visma Flyt Barnehage")

PRIORITY_WEIGHTS = [(1, 0.005), (2, 0.05), (3, 0.30), (4, 0.40), (5, 0.245)]
MATRIX: dict[int, list[tuple[int, int]]] = {}  # priority -> the (impact, urgency) giving it
for _pair, _prio in sorted(PRIORITY_MATRIX.items()):
    MATRIX.setdefault(_prio, []).append(_pair)
CHANNELS = [("phone", 55), ("email", 18), ("self_service", 15), ("walk_in", 5),
            ("monitoring", 7)]


# --------------------------------------------------------------------------- helpers

def _data_lines(name: str) -> list[str]:
    raw = resources.files("pob_tui").joinpath("demo_data", name).read_text(encoding="utf-8")
    return [ln.strip() for ln in raw.splitlines() if ln.strip() and not ln.startswith("#")]


def _data_json(name: str) -> Any:
    raw = resources.files("pob_tui").joinpath("demo_data", name).read_text(encoding="utf-8")
    return json.loads(raw)


def _ascii(s: str) -> str:
    s = s.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "-" for c in s).strip("-")


def _slug(s: str, n: int = 12) -> str:
    return re.sub("-+", "-", _ascii(s))[:n].strip("-")


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _utc(d: date, seconds: float) -> datetime:
    """Oslo wall time (seconds after local midnight of `d`) as aware UTC."""
    local = datetime(d.year, d.month, d.day, 12, tzinfo=OSLO)
    offset = local.utcoffset() or timedelta(0)
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(seconds=seconds) - offset


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` by `weights` with largest remainders (deterministic)."""
    s = sum(weights) or 1
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in rest[: total - sum(out)]:
        out[i] += 1
    return out


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


class _Picker:
    """Fast repeated weighted choice (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


class _Writer:
    """Chunked Core executemany into one connection, counting rows per table. On
    PostgreSQL rows go through COPY instead (about 3x faster than executemany there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}
        self.copy = conn.dialect.name == "postgresql"

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows and self.copy:
            cols = list(rows[0])
            names = ", ".join(f'"{c}"' for c in cols)
            cur = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row([r[c] for c in cols])
            cur.close()
        else:
            for i in range(0, len(rows), CHUNK):
                self.conn.execute(table.insert(), rows[i: i + CHUNK])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def _t(model: type[SQLModel]) -> Table:
    # __table__ is set by SQLModel's metaclass on table=True models; the stubs don't know it
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _domain_tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "ticket_counter"]


# --------------------------------------------------------------------------- public API

def _raw_pragmas(conn: Connection, *pragmas: str) -> None:
    """Run PRAGMAs on the driver connection: pob's engine begins a transaction before any
    SQLAlchemy statement (see db.SQLITE_BEGIN), and these may not run inside one."""
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for pragma in pragmas:
            cur.execute(pragma)
    finally:
        cur.close()


def generate(
    url: str,
    *,
    scale: str = "small",
    seed: int = 1,
    replace: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    operator: str | None = None,
) -> DemoSummary:
    """Fill the database at `url` with a demo municipality; refuses a non-empty database
    unless `replace`, then wipes every domain table first (same transaction).

    "Now" is noon (Europe/Oslo) of `today`, so a pinned `today` and `seed` always give the
    same data; without `today` it is the earlier of noon and the clock (no future tickets).
    `progress(step, done, total)` is called as steps and incident months advance."""
    if scale not in SCALES:
        raise InvalidInput(f"unknown demo scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = time.perf_counter()
    prepare_sqlite(url, create=True)  # the demo may create the database (private, 0600)
    engine = make_engine(url)
    try:
        ensure_schema(engine)
        now = None
        if today is None:  # no tickets from the future when run before noon
            today, now = date.today(), datetime.now(UTC).replace(microsecond=0)
        gen = _Generator(SCALES[scale], seed, today, progress, now, operator=operator)
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # outside any transaction (SQLite refuses these inside one)
                _raw_pragmas(conn, "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144")
                conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                _clear_or_refuse(conn, url, replace)
                gen.run(_Writer(conn))
                if not sqlite:
                    _reset_sequences(conn)
            if sqlite:
                _raw_pragmas(conn, "PRAGMA synchronous=NORMAL")
        # `PRAGMA optimize` on this connection gathered nothing (it ran no queries):
        # the planner statistics come from a real ANALYZE (issue 17)
        gather_statistics(engine)
    finally:
        engine.dispose()
    summary = DemoSummary(scale=scale, seed=seed, counts=gen.counts(), steps=gen.steps)
    summary.elapsed = time.perf_counter() - started
    return summary


def _clear_or_refuse(conn: Connection, url: str, replace: bool) -> None:
    tables = _domain_tables()
    used = [t for t in tables if conn.execute(select(1).select_from(t).limit(1)).first()]
    if used and not replace:
        people = conn.execute(select(func.count()).select_from(_t(m.Person))).scalar_one()
        incidents = conn.execute(select(func.count()).select_from(_t(m.Incident))).scalar_one()
        raise InvalidInput(
            f"database {safe_url(url)} already holds data ({people} people, {incidents} "
            "incidents); use --replace to overwrite it"
        )
    if used:
        # The audit tables are append-only (triggers, migration 0004). Replacing the demo is
        # the schema owner's operation: it lifts those triggers in this transaction only, and
        # they are back before it commits (on SQLite re-created from their own stored SQL).
        audit = ("ticket_event", "admin_event")
        if conn.dialect.name == "postgresql":
            for name in audit:
                conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for name in audit:
                conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                "('ticket_event', 'admin_event')")).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(update(_t(m.OrgUnit)).values(customer_manager_id=None))
            conn.execute(update(_t(m.Team)).values(lead_agent_id=None))
            conn.execute(update(_t(m.OrgUnit)).values(parent_id=None))
            for t in reversed(tables):
                conn.execute(t.delete())
            for _name, sql in triggers:
                conn.execute(text(sql))
    conn.execute(update(_t(m.TicketCounter)).values(last_value=0))


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids bypass PostgreSQL's sequences; move each to max(id)."""
    for t in _domain_tables():
        if "id" in t.c and t.c.id.primary_key:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                f"coalesce(max(id), 0) + 1, false) FROM \"{t.name}\""
            ))


# --------------------------------------------------------------------------- generator

@dataclass
class _Unit:
    id: int
    name: str
    sector: str
    kind: str
    location_id: int
    weight: int
    manager_id: int | None = None


class _Generator:
    """Builds the rows step by step; each step writes its tables before the next reads."""

    def __init__(self, scale: Scale, seed: int, today: date, progress: Progress | None,
                 now: datetime | None = None, *, operator: str | None = None) -> None:
        self.operator = operator
        self.sc = scale
        self.rng = random.Random(seed)
        self.today = today
        noon = datetime.combine(today, dtime(12, 0), OSLO).astimezone(UTC)
        self.now = min(noon, now) if now else noon
        self.start = today - timedelta(days=scale.days)
        self.years = list(range(min(self.start.year, today.year - 1), today.year + 1))
        self.hol = holidays.country_holidays("NO", years=[*self.years, today.year + 1])
        self.progress = progress
        self.steps: dict[str, float] = {}
        self.w: _Writer

    def counts(self) -> dict[str, int]:
        return dict(self.w.counts)

    def _step(self, name: str, fn: Callable[[], None]) -> None:
        """Run one step; progress says (name, 0, 1) before and (name, 1, 1) after, except
        the incident step, which counts months itself."""
        if self.progress and name != "incidents":
            self.progress(name, 0, 1)
        t0 = time.perf_counter()
        fn()
        self.steps[name] = time.perf_counter() - t0
        if self.progress and name != "incidents":
            self.progress(name, 1, 1)

    def run(self, w: _Writer) -> None:
        self.w = w
        steps = [("organisation", self.organisation), ("teams and agents", self.teams),
                 ("agreements", self.agreements), ("catalog", self.catalog),
                 ("usage", self.usage), ("cmdb", self.cmdb), ("changes", self.changes),
                 ("incidents", self.incidents), ("counters", self.finish)]
        for name, fn in steps:
            self._step(name, fn)

    def working_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.hol

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
        self.calendar_ids = {"Kontortid": 1, "Døgnåpent": 2}
        hours_office = {str(d): [["08:00", "15:45"]] for d in range(5)}
        hours_24 = {str(d): [["00:00", "24:00"]] for d in range(7)}
        self.w.insert(_t(m.Calendar), [
            {"id": 1, "name": "Kontortid", "tz": "Europe/Oslo", "hours": json.dumps(hours_office),
             "national_holidays": True},
            {"id": 2, "name": "Døgnåpent", "tz": "Europe/Oslo", "hours": json.dumps(hours_24),
             "national_holidays": False},
        ])
        days: list[dict[str, Any]] = []
        for y in [*self.years, self.today.year + 1]:
            for md, note in (((12, 24), "Julaften – stengt"), ((12, 31), "Nyttårsaften – stengt")):
                days.append({"id": len(days) + 1, "calendar_id": 1, "day": date(y, *md),
                             "hours": None, "note": note})
        self.w.insert(_t(m.CalendarDay), days)
        self.calendar_rows = {
            1: (m.Calendar(id=1, name="Kontortid", tz="Europe/Oslo",
                           hours=json.dumps(hours_office), national_holidays=True),
                [m.CalendarDay(**d) for d in days]),
            2: (m.Calendar(id=2, name="Døgnåpent", tz="Europe/Oslo", hours=json.dumps(hours_24),
                           national_holidays=False), []),
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
                title = ("Teamleder" if i == 0 and kind != "supplier" else TEAM_TITLES[kind])
                ids.append(agent(code, title, rl))
            leads[code] = ids[0]
            self.team_agents[self.team_ids[code]] = ids
        self.change_manager = agent("DRIFT", "Endringsleder", ["change_manager", "cab_member",
                                                                "second_line"])
        self.team_agents[self.team_ids["DRIFT"]].append(self.change_manager)
        # customer managers, one per sector (the IT department's contact for that customer)
        self.customer_managers: dict[str, int] = {}
        for i, (code, _name, _cc) in enumerate(SECTORS):
            rl = ["customer_manager", *(["cab_member"] if i < 2 else [])]
            aid = agent(None, "Kundeansvarlig IT", rl)
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
            aid = agent("SD", "IT-konsulent, Servicedesk", demo_roles,
                        first=login.split(".")[0].capitalize() or "Demo",
                        last="Demobruker", username=login)
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
            {"id": 1, "name": "Standardavtale", "customer_id": None, "calendar_id": 1,
             "valid_from": date(self.years[0], 1, 1), "valid_to": None, "is_default": True},
            {"id": 2, "name": "Helse og omsorg – kritiske systemer døgnet rundt",
             "customer_id": self.sector_ids["HO"], "calendar_id": 2,
             "valid_from": date(self.years[0], 1, 1), "valid_to": None, "is_default": False},
            {"id": 3, "name": "Oppvekst – skoler og barnehager",
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
            desc = (f"{name} ({cat.lower()}). Brukerstøtte via Servicedesk; andrelinje er "
                    f"{dict((c, n) for c, n, _k, _a in TEAMS)[team]}.")
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

        core = [ci(f"core-rt-0{i}", "network", self.hq, "NETT", desc="Kjerneruter") for i in (1, 2)]
        ring = {}
        for r in (1, 2, 3):
            ring[r] = ci(f"ring{r}-rt-01", "network", self.hq, "NETT",
                         desc=f"Ruter for fiberring {r}")
            for c in core:
                rel(ring[r], c, "connects_to")
        switches: dict[int, list[int]] = {}
        printers: dict[int, list[int]] = {}
        pupil_n = 0
        for loc in self.locations:
            code = loc["code"].lower()
            n_sw = {"office": 6, "school": 4, "nursing_home": 4}.get(loc["kind"], 2)
            switches[loc["id"]] = [ci(f"sw-{code}-{i:02d}", "network", loc["id"], "NETT",
                                      desc="Aksesssvitsj") for i in range(1, n_sw + 1)]
            for sw in switches[loc["id"]]:
                rel(sw, ring[loc["ring"]], "connects_to")
            n_pr = {"office": 8, "school": 4, "nursing_home": 3}.get(loc["kind"], 1)
            printers[loc["id"]] = []
            for i in range(1, n_pr + 1):
                prn = ci(f"prn-{code}-{i:02d}", "printer", loc["id"], "KLU",
                       desc=rng.choice(["Multifunksjonsskriver", "Skriver A4", "Skriver A3"]))
                printers[loc["id"]].append(prn)
                rel(prn, rng.choice(switches[loc["id"]]), "connects_to")
            if loc["kind"] == "school":
                for i in range(1, sc.pupil_devices + 1):
                    pupil_n += 1
                    d = ci(f"elev-{code}-{i:03d}", "client", loc["id"], "FSK",
                           desc="Elev-Chromebook")
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
                       status, rng.choice(["Bærbar PC", "Bærbar PC", "Stasjonær PC"]))
                self.person_pc[pid] = c
                rel(c, rng.choice(switches[loc]), "connects_to")
            if rng.random() < sc.phones_per_person:
                self.person_phone[pid] = ci(f"PK-MOB-{len(self.person_phone) + 1:05d}", "phone",
                                            loc, "TEL", pid, desc="Mobiltelefon")
        # servers, databases and applications per service
        dc = self.office_ids[min(6, len(self.office_ids) - 1)]
        storage = [ci(f"san-0{i}", "storage", dc, "DRIFT", desc="Lagringssystem") for i in (1, 2)]
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
                     desc=f"Applikasjon for {s['name']}")
            n_srv = 1 if s["pop"] < 5 else (2 if s["pop"] < 20 else 3)
            srvs = [ci(f"pk-{slug}-app{i:02d}", "server", dc, "DRIFT", status=status,
                       desc="Virtuell applikasjonsserver") for i in range(1, n_srv + 1)]
            for srv in srvs:
                rel(app, srv, "runs_on")
                rel(srv, rng.choice(storage), "depends_on")
            if rng.random() < 0.8:
                db_srv = ci(f"pk-{slug}-db01", "server", dc, "DRIFT", status=status,
                            desc="Databaseserver")
                db = ci(f"db-{slug}", "database", dc, "DRIFT", status=status,
                        desc=rng.choice(["SQL Server-database", "Oracle-database",
                                         "PostgreSQL-database"]))
                rel(db, db_srv, "runs_on")
                rel(app, db, "depends_on")
            sci.append({"service_id": s["id"], "ci_id": app})
            sci.extend({"service_id": s["id"], "ci_id": srv} for srv in srvs)
            self.svc_ci[s["id"]] = [app, *srvs]
        self.w.insert(_t(m.ConfigItem), cis)
        self.w.insert(_t(m.CiRelation), rels)
        self.w.insert(_t(m.ServiceCi), sci)
        self.switches = switches

    # ---------------------------------------------------------------- changes and CAB
    def changes(self) -> None:
        rng = self.rng
        tpl_rows = []
        for i, (name, team) in enumerate(CHANGE_TEMPLATES, 1):
            tpl_rows.append({
                "id": i, "name": name, "description": f"Forhåndsgodkjent standardendring: {name}.",
                "implementation_plan": "Følg rutinen i driftshåndboka.",
                "test_plan": "Verifiser tjenesten etter endringen.",
                "backout_plan": "Rull tilbake til forrige konfigurasjon.",
                "owner_team_id": self.team_ids[team], "active": True})
        self.w.insert(_t(m.ChangeTemplate), tpl_rows)
        freeze: list[dict[str, Any]] = []
        for y in self.years:
            for name, a, b in ((f"Julefrys {y}", date(y, 12, 20), date(y + 1, 1, 3)),
                               (f"Skolestart {y}", date(y, 8, 12), date(y, 8, 20))):
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
                                  "conditions": "Utføres i vedlikeholdsvinduet; varsle "
                                  "Servicedesk før start." if rng.random() < 0.3 else None})
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
                    review = "Gjennomgått: årsak funnet og tiltak avtalt."
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
            "description": f"{title}. Berører tjenesten {s['name']}.",
            "reason": rng.choice(["Leverandøren slutter å støtte gammel versjon.",
                                  "Sikkerhetsoppdatering.", "Ønske fra tjenesteeier.",
                                  "Kapasitetsbehov.", "Rette feil meldt i problem."]),
            "status": status, "requester_id": requester, "owner_team_id": team,
            "implementer_id": implementer, "template_id": template, "risk": risk,
            "risk_answers": json.dumps(answers), "risk_reasons": json.dumps(reasons,
                                                                             ensure_ascii=False),
            "planned_start": start, "planned_end": end, "actual_start": a_start,
            "actual_end": a_end,
            "implementation_plan": "1. Varsle brukere. 2. Ta sikkerhetskopi. 3. Utfør endringen.",
            "test_plan": "Logg inn og kontroller nøkkelfunksjoner sammen med tjenesteeier.",
            "backout_plan": "Gjenopprett fra sikkerhetskopi og start tjenesten på nytt.",
            "emergency_reason": ("Kritisk sikkerhetshull / driftsstans."
                                 if ctype == "emergency" else None),
            "outcome": outcome, "review_note": review, "created_at": created,
            "submitted_at": submitted, "updated_at": updated, "version": 1,
        }

    @staticmethod
    def _event(ttype: str, tid: int, at: datetime, actor: int | None, kind: str,
               fld: str | None = None, old: str | None = None, new: str | None = None,
               comment: str | None = None, minutes: int | None = None) -> dict[str, Any]:
        return {"id": 0, "ticket_type": ttype, "ticket_id": tid, "at": at, "actor_id": actor,
                "kind": kind, "field": fld, "old_value": old, "new_value": new,
                "comment": comment, "minutes": minutes}

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
        self.inc_id = self.prb_id = self.evt_id = self.fu_id = self.clock_id = 0
        self._clocks: list[dict[str, Any]] = []
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
                           resolution_code="duplicate", resolution_note="Duplikat av annen sak.")
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
                "id": 0, "number": "", "title": f"Gjentatte feil: {seed['summary']}"[:200],
                "description": f"Flere saker om {s['name']} med samme symptom.",
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
                    "note": "Ringt innringer og fulgt opp med teamleder." if done else None,
                    "created_at": inc["satisfaction_at"],
                    "done_at": inc["satisfaction_at"] + timedelta(days=rng.randint(1, 10))
                    if done else None,
                })

    # ---------------------------------------------------------------- SLA clocks
    def _setup_clocks(self) -> None:
        """Calendars and agreement per sector, as services.sla would choose them: the
        sector's own agreement (Helse og omsorg 24/7, Oppvekst), else the default."""
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

    # ---------------------------------------------------------------- counters
    def finish(self) -> None:
        tc = _t(m.TicketCounter)
        n_chg = self.w.counts.get("change_request", 0)
        for prefix, value in (("INC", self.inc_id), ("PRB", self.prb_id), ("CHG", n_chg)):
            self.w.conn.execute(update(tc).where(tc.c.prefix == prefix).values(last_value=value))
        self.w.insert(_t(m.AdminEvent), [{
            "id": 1, "at": self.now, "actor": "pob", "action": "demo.generate",
            "target": f"scale={self.sc.name}", "detail": f"demo data up to {self.today}",
            "allowed": True}])
