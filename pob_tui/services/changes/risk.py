"""A change's risk: the questionnaire and the documented points score. Pure rules (no
database): `lifecycle.refresh_risk` feeds them a change's answers, impact and lead time.

Risk (documented in the README, tested in tests/test_changes.py) is a points score:

    questionnaire   user_impact  none 0 / some 1 / many 2
                    complexity   low 0 / medium 1 / high 2
                    back-out possible? no +2;  tested? no +1;  done before? no +1
    impact          people >= 5,000 +2, >= 500 +1;  services >= 3 +1
    lead time       (normal changes) < 2 working days +2, < 5 working days +1
    type            emergency +2 (no normal lead time, less testing)

    0-2 low, 3-5 medium, 6 or more high; standard changes from a template are low.

Lead time counts the working days d with submitted < d <= planned start (local dates),
where a working day is one the Norwegian office calendar is open (weekdays, minus public
holidays and the configured closing days: `sla.workdays`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pob_tui.errors import InvalidInput
from pob_tui.i18n import _

Answer = str | bool
"""A questionnaire answer: one of the listed words, or yes/no."""

QUESTIONS: dict[str, tuple[str, tuple[Answer, ...]]] = {
    "user_impact": ("Will users notice the change during the window?", ("none", "some", "many")),
    "complexity": ("How complex is the change?", ("low", "medium", "high")),
    "backout": ("Can the change be backed out?", (True, False)),
    "tested": ("Has it been tested in a test environment?", (True, False)),
    "done_before": ("Has the team done this change before?", (True, False)),
}
DEFAULT_ANSWERS: dict[str, Answer] = {"user_impact": "some", "complexity": "medium",
                                      "backout": True, "tested": True, "done_before": True}
LOW_MAX, MEDIUM_MAX = 2, 5
RISK_ORDER: dict[str | None, int] = {"high": 0, "medium": 1, "low": 2, None: 3}
"""Highest risk first (the CAB agenda's order); no assessment last."""


@dataclass(frozen=True)
class Risk:
    level: str
    score: int
    reasons: tuple[str, ...]


def check_answers(answers: Mapping[str, object] | None) -> dict[str, Answer]:
    """All five answers, defaults filled in; unknown questions or values refused."""
    out = dict(DEFAULT_ANSWERS)
    for key, value in (answers or {}).items():
        if key not in QUESTIONS:
            raise InvalidInput(_("unknown risk question {key}; expected one of {choices}")
                               .format(key=repr(key), choices=", ".join(QUESTIONS)))
        allowed = QUESTIONS[key][1]
        if isinstance(value, str) and allowed[0] is True:
            low = value.strip().lower()
            value = {"yes": True, "true": True, "y": True, "no": False, "false": False,
                     "n": False}.get(low, value)
        if value not in allowed:
            raise InvalidInput(_("risk answer {key}={value}; expected one of {choices}").format(
                key=key, value=repr(value), choices=", ".join(
                    "yes" if a is True else "no" if a is False else str(a) for a in allowed)))
        out[key] = allowed[allowed.index(value)]  # the listed value (1 is True)
    return out


def assess_risk(answers: Mapping[str, object] | None, *, people: int = 0, services: int = 0,
                lead_working_days: int | None = None, change_type: str = "normal") -> Risk:
    """The documented formula (module docstring): level, score and the reasons."""
    a = check_answers(answers)
    if change_type == "standard":
        return Risk("low", 0, ("standard change from a pre-approved template",))
    score = 0
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    if a["user_impact"] == "many":
        add(2, "many users notice the change")
    elif a["user_impact"] == "some":
        add(1, "some users notice the change")
    if a["complexity"] == "high":
        add(2, "high complexity")
    elif a["complexity"] == "medium":
        add(1, "medium complexity")
    if not a["backout"]:
        add(2, "cannot be backed out")
    if not a["tested"]:
        add(1, "not tested")
    if not a["done_before"]:
        add(1, "not done before")
    if people >= 5000:
        add(2, f"touches services with {people:,} users")
    elif people >= 500:
        add(1, f"touches services with {people:,} users")
    if services >= 3:
        add(1, f"affects {services} services")
    if change_type == "emergency":
        add(2, "emergency change")
    elif lead_working_days is not None:
        if lead_working_days < 2:
            add(2, "less than 2 working days' lead time")
        elif lead_working_days < 5:
            add(1, "less than 5 working days' lead time")
    level = "low" if score <= LOW_MAX else "medium" if score <= MEDIUM_MAX else "high"
    return Risk(level, score, tuple(reasons))
