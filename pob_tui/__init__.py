"""pob: keyboard-driven IT service management for municipal IT departments.

`PobApp` is imported lazily so that the domain packages (models, services, sla, reports)
can be used without loading Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pob_tui._version import __version__

__all__ = ["PobApp", "__version__"]

if TYPE_CHECKING:
    from pob_tui.tui.app import PobApp


def __getattr__(name: str) -> Any:
    if name == "PobApp":
        from pob_tui.tui.app import PobApp

        return PobApp
    raise AttributeError(f"module 'pob_tui' has no attribute {name!r}")
