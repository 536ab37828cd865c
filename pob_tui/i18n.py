"""Translations through gettext: English source strings, catalogues in pob_tui/locale.

`_` is looked up at call time, so switching language with `set_language` affects every string
translated after it. Strings evaluated at import time (binding descriptions) use the language
chosen before the TUI is imported: the CLI calls `set_language` first.
"""

from __future__ import annotations

import gettext
import locale
import os
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
    return _translation.ngettext(singular, plural, n)


set_language(os.environ.get("POB_GENERAL_LANGUAGE") or None)
