"""Maintain the gettext catalogues: `python tools/i18n.py extract|update|compile|check`.

Uses Babel (a test dependency) to extract `_()` strings from pob_tui into pob.pot, merge them
into each language's .po, and compile the .mo files that ship in the wheel. The .mo files are
committed so an installed pob needs no build step.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "pob_tui" / "locale"
LANGS = ("en", "nb")


def extract() -> Catalog:
    catalog = Catalog(project="pob", charset="utf-8")
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT / "pob_tui"), method_map, keywords={"_": None, "ngettext": (1, 2)},
        comment_tags=("TRANSLATORS:",),
    ):
        catalog.add(message, None, [(f"pob_tui/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "pob.po"


def update() -> None:
    template = extract()
    with open(LOCALE / "pob.pot", "wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True)
    for lang in LANGS:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with open(path, "rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="pob", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        with open(path, "wb") as fh:
            write_po(fh, catalog, sort_output=True, ignore_obsolete=True)


def compiled(lang: str) -> bytes:
    with open(po_path(lang), "rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def compile_all() -> None:
    for lang in LANGS:
        po_path(lang).with_suffix(".mo").write_bytes(compiled(lang))


def untranslated(lang: str) -> list[str]:
    with open(po_path(lang), "rb") as fh:
        catalog = read_po(fh, locale=lang)
    return [m.id if isinstance(m.id, str) else m.id[0]
            for m in catalog if m.id and (not m.string or m.fuzzy)]


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "update"
    if action in ("extract", "update"):
        update()
    if action in ("update", "compile"):
        compile_all()
    if action == "check":
        missing = untranslated("nb")
        print("\n".join(missing) or "all translated")
        sys.exit(1 if missing else 0)
