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

The package holds a step per module. Each step is a class building on the state the step
before it left (they depend on each other in that order and share one random stream):

* ``base``: scales, the row writer and small helpers; ``data``: the Norwegian names and
  texts, read from ``pob_tui/demo_data/``;
* ``org`` (locations, org units, people, teams and agents, agreements), ``catalog``
  (services, costs, subscriptions, usage), ``cmdb``, ``changes`` (changes and CAB),
  ``clocks`` (SLA clocks), ``incidents`` (the ticket history, problems, follow-ups);
* ``build``: ``generate``, one transaction around the steps.
"""

from __future__ import annotations

from pob_tui.demo.base import SCALES, Scale
from pob_tui.demo.build import DemoSummary, generate

__all__ = ["SCALES", "DemoSummary", "Scale", "generate"]
