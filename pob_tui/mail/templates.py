"""Mail texts as Jinja2 templates an administrator can override, rendered in a sandbox.

`<event>.<language>.txt`: the first line is the subject, the rest the body. A file of the
same name in `[mail] templates_dir` wins over the built-in one. The sandbox keeps a template
from reaching Python internals; autoescape is off because the mail is plain text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from pob_tui.errors import ConfigError

BUILTIN = Path(__file__).parent / "templates"
LANGUAGES = ("nb", "en")


@lru_cache(maxsize=8)
def _environment(templates_dir: str) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(str(BUILTIN)))
    return SandboxedEnvironment(loader=ChoiceLoader(loaders), autoescape=False,
                                undefined=StrictUndefined, keep_trailing_newline=True)


def render(event: str, language: str, context: dict[str, Any], *,
           templates_dir: str = "") -> tuple[str, str]:
    """(subject, body) for `event` in `language` (nb when unknown)."""
    lang = language if language in LANGUAGES else "nb"
    name = f"{event}.{lang}.txt"
    try:
        text = _environment(templates_dir).get_template(name).render(**context)
    except TemplateError as exc:
        raise ConfigError(f"mail template {name}: {exc}") from None
    subject, _sep, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")
