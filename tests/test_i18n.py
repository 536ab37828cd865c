"""Translation catalogues: compiled .mo files are current, nb is complete, placeholders agree.

No database: these tests read the .po/.mo files, extract `_()` strings from the source with
Babel through tools/i18n.py, and switch pob_tui.i18n between languages.
"""

from __future__ import annotations

import importlib.util
import string
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from pob_tui import i18n

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pob_tools_i18n", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return _load_tool()


@pytest.fixture(scope="module")
def nb_catalog(tool: ModuleType) -> Catalog:
    with open(tool.po_path("nb"), "rb") as fh:
        return read_po(fh, locale="nb")


@pytest.fixture(scope="module")
def extracted(tool: ModuleType) -> Catalog:
    return tool.extract()


@pytest.fixture
def restore_language() -> Iterator[None]:
    before = i18n.current_language()
    yield
    i18n.set_language(before)


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _fields(text: str) -> list[tuple[str, str, str]]:
    """The replacement fields of a str.format string: (name, conversion, format spec)."""
    return sorted(
        (name, conversion or "", spec or "")
        for _literal, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_shipped_mo_matches_po(tool: ModuleType, lang: str) -> None:
    shipped = tool.po_path(lang).with_suffix(".mo").read_bytes()
    assert shipped == tool.compiled(lang), (
        f"{lang}/pob.mo is stale: run `python tools/i18n.py compile`"
    )


def test_every_source_string_is_translated_in_nb(extracted: Catalog, nb_catalog: Catalog) -> None:
    problems = []
    for message in extracted:
        if not message.id:
            continue
        msgid = _msgid(message.id)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations)
        translated = nb_catalog.get(message.id)
        if translated is None:
            problems.append(f"missing from nb.po: {msgid!r} ({where})")
        elif translated.fuzzy:
            problems.append(f"fuzzy in nb.po: {msgid!r} ({where})")
        elif not (
            translated.string if isinstance(translated.string, str) else all(translated.string)
        ):
            problems.append(f"untranslated in nb.po: {msgid!r} ({where})")
    assert not problems, (
        "run `python tools/i18n.py update`, translate, then `compile`:\n" + "\n".join(problems)
    )


def test_nb_placeholders_match_msgid(nb_catalog: Catalog) -> None:
    problems = []
    for message in nb_catalog:
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        allowed = [_fields(msgid) for msgid in ids]  # plural forms may drop {n}, as msgids do
        for translation in filter(None, strings):
            try:
                got = _fields(translation)
            except ValueError as exc:
                problems.append(f"{ids[0]!r}: bad format string {translation!r} ({exc})")
                continue
            if got not in allowed:
                problems.append(f"{ids[0]!r}: {allowed[0]} != {got} in {translation!r}")
    assert not problems, "\n".join(problems)


def test_nb_keeps_leading_and_trailing_spaces(nb_catalog: Catalog) -> None:
    problems = []
    for message in nb_catalog:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        msgid, msgstr = message.id, message.string
        if (msgid[:1] == " ") != (msgstr[:1] == " ") or (msgid[-1:] == " ") != (msgstr[-1:] == " "):
            problems.append(f"{msgid!r} -> {msgstr!r}")
    assert not problems, "\n".join(problems)


def test_set_language_switches_catalogue(restore_language: None) -> None:
    assert i18n.set_language("nb") == "nb"
    assert i18n.current_language() == "nb"
    assert i18n._("Quit") == "Avslutt"
    assert i18n._("Service catalog") == "Tjenestekatalog"
    assert i18n._("Go to {area}").format(area="Kø") == "Gå til Kø"
    assert i18n.set_language("en") == "en"
    assert i18n._("Quit") == "Quit"
    assert i18n._("Service catalog") == "Service catalog"


def test_unknown_language_falls_back_to_english(restore_language: None) -> None:
    assert i18n.set_language("sv") == "en"
    assert i18n._("Quit") == "Quit"


def test_language_from_locale(monkeypatch: pytest.MonkeyPatch, restore_language: None) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "nb_NO.UTF-8")
    assert i18n.set_language(None) == "nb"
    assert i18n._("Quit") == "Avslutt"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert i18n.set_language(None) == "en"
    assert i18n._("Quit") == "Quit"
