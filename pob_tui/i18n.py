"""Translations through gettext: English source strings, catalogues in pob_tui/locale.

`_` is looked up at call time, so switching language with `set_language` affects every string
translated after it. Strings evaluated at import time (binding descriptions) use the language
chosen before the TUI is imported: the CLI calls `set_language` first.
"""

from __future__ import annotations

import gettext
import locale
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

DOMAIN = "pob"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "nb")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_current = "en"


def detect_language() -> str:
    """The user's language from the environment's locale; 'nb' for any Norwegian locale."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            code = value.split(":")[0].split(".")[0].split("_")[0].lower()
            return "nb" if code in ("nb", "no", "nn") else "en"
    try:
        code = (locale.getlocale()[0] or "").split("_")[0].lower()
    except ValueError:
        code = ""
    return "nb" if code in ("nb", "no", "nn") else "en"


def set_language(language: str | None) -> str:
    """Switch the catalogue; empty or None means the locale's language. Returns the code."""
    global _translation, _current
    lang = language or detect_language()
    if lang not in LANGUAGES:
        lang = "en"
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True
    )
    _current = lang
    return lang


def current_language() -> str:
    return _current


def _(message: str) -> str:
    """Translate one message."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural by the current language's rule: '1 tjeneste', '2 tjenester'."""
    return _translation.ngettext(singular, plural, n)


def format_decimal(value: float | int | object, decimals: int = 0) -> str:
    """A number as people read it: thousands apart with a space, as the catalog shows amounts
    ("14 589 434"), and a decimal comma in Norwegian ("12,5"), a point in English."""
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,}"  # type: ignore[arg-type]
    text = text.replace(",", " ")
    return text.replace(".", ",") if _current == "nb" else text


def local_number(value: object) -> str:
    """A float or decimal as stored, with the current language's decimal sign ("4,66" in
    nb); anything else as str()."""
    text = str(value)
    if _current == "nb" and not isinstance(value, bool | int | str):
        return text.replace(".", ",")
    return text


class LazyLabels(Mapping[str, str]):
    """Display labels of stored values (states, kinds, columns) translated when read, not at
    import: `build` returns the table in the current language (its `_()` calls run then).
    A module-level dict of `_()` results would keep the language of the first import."""

    def __init__(self, build: Callable[[], dict[str, str]]) -> None:
        self._build = build
        self._cache: tuple[str, dict[str, str]] | None = None

    def _table(self) -> dict[str, str]:
        if self._cache is None or self._cache[0] != _current:
            self._cache = (_current, self._build())
        return self._cache[1]

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


set_language(os.environ.get("POB_GENERAL_LANGUAGE") or None)
