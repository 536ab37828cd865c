"""The demo's Norwegian names and texts, read once from `pob_tui/demo_data/` (shipped in the
wheel as package data): names and places as text files, everything else as JSON whose
`_about` says what each list holds. Rows come back as tuples, as the steps unpack them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def _data_lines(name: str) -> list[str]:
    raw = resources.files("pob_tui").joinpath("demo_data", name).read_text(encoding="utf-8")
    return [ln.strip() for ln in raw.splitlines() if ln.strip() and not ln.startswith("#")]


def _data_json(name: str) -> Any:
    raw = resources.files("pob_tui").joinpath("demo_data", name).read_text(encoding="utf-8")
    return json.loads(raw)


def _rows(items: list[list[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in items]


_ORG: dict[str, Any] = _data_json("organisation.json")
SECTORS: list[tuple[str, str, str]] = [(a, b, c) for a, b, c in _ORG["sectors"]]
# location kind: (count at 250 locations, sector, people weight, name patterns)
LOCATION_KINDS: dict[str, tuple[int, str, int, tuple[str, ...]]] = {
    kind: (n, sector, weight, tuple(patterns))
    for kind, (n, sector, weight, patterns) in _ORG["location_kinds"].items()}
SMALL_KIND_COUNTS: dict[str, int] = _ORG["small_kind_counts"]
OFFICES: list[tuple[str, str]] = [(a, b) for a, b in _ORG["offices"]]  # name, place
# administrative units: sector, name, people weight, office index
ADMIN_UNITS: list[tuple[str, str, int, int]] = [(a, b, c, d) for a, b, c, d in _ORG["admin_units"]]
TITLES: dict[str, tuple[list[str], list[str]]] = {
    kind: (leads, staff) for kind, (leads, staff) in _ORG["titles"].items()}
TEAMS: list[tuple[str, str, str, int]] = [(a, b, c, d) for a, b, c, d in _ORG["teams"]]
TEAM_TITLES: dict[str, str] = _ORG["team_titles"]

_CATALOG: dict[str, Any] = _data_json("catalog.json")
QUICK_CALLS = _rows(_CATALOG["quick_calls"])  # name, service, summary, impact, urgency, code, note
CATEGORY_SECTOR: dict[str, str] = _CATALOG["category_sector"]
DOMAIN_SECTOR: dict[str, str] = _CATALOG["domain_sector"]
HEALTH_24_7: tuple[str, ...] = tuple(_CATALOG["health_24_7"])
SCHOOL_SERVICES: tuple[str, ...] = tuple(_CATALOG["school_services"])

_TICKETS: dict[str, Any] = _data_json("tickets.json")
SUMMARIES: dict[str, list[str]] = _TICKETS["summaries"]
GENERIC_SUMMARIES: list[str] = _TICKETS["generic_summaries"]
MONITORING: list[str] = _TICKETS["monitoring"]
CHANNEL_INTRO: dict[str, str] = _TICKETS["channel_intro"]
DETAILS: list[str] = _TICKETS["details"]
WORK_NOTES: list[str] = _TICKETS["work_notes"]
RESOLUTIONS: list[tuple[str, str, int]] = [(a, b, c) for a, b, c in _TICKETS["resolutions"]]
GOOD_COMMENTS: list[str] = _TICKETS["good_comments"]
BAD_COMMENTS: list[str] = _TICKETS["bad_comments"]
WORKAROUNDS: list[str] = _TICKETS["workarounds"]
ROOT_CAUSES: list[str] = _TICKETS["root_causes"]

_CHANGES: dict[str, Any] = _data_json("changes.json")
CHANGE_TITLES: list[str] = _CHANGES["change_titles"]
CHANGE_TEMPLATES: list[tuple[str, str]] = [(a, b) for a, b in _CHANGES["change_templates"]]
RISK_REASONS: dict[str, list[str]] = _CHANGES["risk_reasons"]

TEXT: dict[str, Any] = _data_json("texts.json")  # free texts of the rows, by what they are
