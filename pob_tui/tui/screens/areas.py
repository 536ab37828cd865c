"""Areas that later issues fill. Each says, briefly, what is coming."""

from __future__ import annotations

from pob_tui.i18n import _
from pob_tui.tui.screens.base import ComingSoonScreen


class ProblemsScreen(ComingSoonScreen):
    AREA = "problems"
    NOTE = _("Problems and known errors: coming with the problem issue.")


class ChangesScreen(ComingSoonScreen):
    AREA = "changes"
    NOTE = _("Changes and CAB: coming with the change issue.")


class CabScreen(ComingSoonScreen):
    AREA = "cab"
    NOTE = _("Changes and CAB: coming with the change issue.")


class CatalogScreen(ComingSoonScreen):
    AREA = "catalog"
    NOTE = _("Service catalog: coming with the catalog issue.")


class ReportsScreen(ComingSoonScreen):
    AREA = "reports"
    NOTE = _("Reports (costs, KPIs, retirement): coming with the reports issue.")
