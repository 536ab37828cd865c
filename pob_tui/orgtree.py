"""The org tree's one pure rule: walking up the parents must end at the top, never loop.

Below both services (the CSV import and unit editing refuse a loop) and reports (a cost
report refuses data with one, since a loop drops its units from every rolled-up total).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def find_cycle(parents: Mapping[K, K | None], start: K) -> list[K] | None:
    """The loop reached by walking up from `start` (first unit repeated at the end), or None.
    `parents` maps each unit to its parent (None at the top)."""
    path: list[K] = []
    index: dict[K, int] = {}
    unit: K | None = start
    while unit is not None:
        if unit in index:
            return [*path[index[unit]:], unit]
        index[unit] = len(path)
        path.append(unit)
        unit = parents.get(unit)
    return None


def cycle_text(codes: list[str]) -> str:
    return " -> ".join(codes)
