"""Threading keys: our Message-IDs and the `[INC-000123]` subject tag.

Our Message-IDs name the incident (`pob.INC-000123.<random>@domain`), so a reply threads
even when the outgoing row is gone (a restored database); the stored row is looked up first.
"""

from __future__ import annotations

import re
import secrets

TAG = re.compile(r"\[\s*(INC-\d{6,})\s*\]", re.IGNORECASE)
_OURS = re.compile(r"^pob\.(INC-\d{6,})\.[0-9a-z]+@(.+)$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*((re|sv|aw|vs|fw|fwd|vb|tr|antw|odp)\s*(\[\d+\])?\s*:\s*)+",
                     re.IGNORECASE)


def make_message_id(number: str | None, domain: str) -> str:
    """A new Message-ID on our domain (without angle brackets)."""
    key = number or "MSG"
    return f"pob.{key}.{secrets.token_hex(8)}@{domain}"


def number_in_message_id(message_id: str, domain: str) -> str | None:
    """The incident number in one of our Message-IDs, else None."""
    m = _OURS.match(message_id)
    if m and m.group(2).lower() == domain.lower():
        return m.group(1).upper()
    return None


def subject_tag(subject: str) -> str | None:
    m = TAG.search(subject or "")
    return m.group(1).upper() if m else None


def tagged(subject: str, number: str) -> str:
    """A subject carrying the tag once: `[INC-000123] Outlook henger`."""
    base = TAG.sub("", subject or "").strip()
    base = _PREFIX.sub("", base).strip()
    return f"[{number}] {base}".strip()


def clean_subject(subject: str) -> str:
    """The subject without Re:/SV:/AW: prefixes and our tag, for a new incident's summary."""
    return _PREFIX.sub("", TAG.sub("", subject or "")).strip()
