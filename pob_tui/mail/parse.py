"""Real-world mail as plain values: sender, subject, reply text, attachments, loop headers.

The stdlib `email` package (policy=default) does the MIME work. What it leaves to us: header
values it cannot decode (broken encoded words, raw 8-bit), charsets that lie (ISO-8859-1 that
is really Windows-1252), bodies in unknown charsets, HTML-only mail, and cutting the quoted
history and signature out of a reply. Every fallback degrades to text with replacement
characters rather than failing: only a message with no usable sender is "held".
"""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import cast

MAX_TEXT = 100_000  # characters of body text kept on the incident


class MailParseError(Exception):
    """The message cannot be used; the text is the reason kept with the held message."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMail:
    raw: bytes
    message_id: str | None
    from_email: str | None
    from_name: str | None
    subject: str
    date: datetime | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    reply: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Lower-cased header name -> decoded value, for the loop guard.
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    report_type: str = ""  # multipart/report; report-type=delivery-status -> "delivery-status"

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, the most direct first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


# --- headers -------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_MSGID = re.compile(r"<([^<>\s]+)>")
# Charsets that mail labels wrongly or by old names; decoding with the superset loses nothing.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "gb2312": "gbk", "gb_2312-80": "gbk", "x-gbk": "gbk",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "x-sjis": "shift_jis", "utf8": "utf-8",
    "unknown-8bit": "utf-8", "x-unknown": "utf-8", "windows-874": "cp874",
}


def _codec(charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; undeclared or wrong charsets fall back to UTF-8, then
    Windows-1252 (which maps every byte), never an exception."""
    codec = _codec(charset)
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _decode_words(value: str) -> str:
    """RFC 2047 words one by one, so that one broken word (bad charset, bad base64, no
    padding) spoils only itself."""
    value = _unescape_8bit(value)

    def one(m: re.Match[str]) -> str:
        charset, enc, text = m.group(1), m.group(2).upper(), m.group(3)
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
        try:
            if enc == "B":
                import base64

                data = base64.b64decode(text + "=" * (-len(text) % 4))
            else:
                import quopri

                data = quopri.decodestring(text.replace("_", " ").encode("ascii", "replace"),
                                           header=False)
        except (ValueError, TypeError):
            return m.group(0)
        return decode_bytes(data, charset)

    # Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
    value = re.sub(r"(\?=)\s+(=\?)", r"\1\2", value)
    return _ENCODED_WORD.sub(one, value)


def _unescape_8bit(value: str) -> str:
    """Raw 8-bit bytes in a header arrive as surrogate escapes; recover them as UTF-8 or
    Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, "utf-8")


def _clean(text: str) -> str:
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = "".join(ch if ch >= " " else " " for ch in text if not "\udc80" <= ch <= "\udcff")
    return re.sub(r" {2,}", " ", text).strip()


def _raw(msg: Message, name: str) -> str | None:
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return str(value)
    return None


def header(msg: Message, name: str) -> str:
    """A header decoded to text however broken, '' when absent. Decoded word by word from
    the raw value: cheaper than the policy's header objects, and a broken word spoils only
    itself."""
    raw = _raw(msg, name)
    return _clean(_decode_words(raw)) if raw is not None else ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs, address lower-cased. Split on the raw value (where
    commas inside encoded words cannot mislead), then each display name decoded."""
    raw = _raw(msg, name)
    if raw is None:
        return []
    raw = _unescape_8bit(raw).replace("\r", " ").replace("\n", " ")
    out: list[tuple[str, str]] = []
    for display, addr in email.utils.getaddresses([raw]):
        if "@" in addr:
            out.append((_clean(_decode_words(display)), addr.strip().lower()))
    return out


def _msgids(text: str) -> list[str]:
    return _MSGID.findall(text or "")


def normalise_msgid(text: str | None) -> str | None:
    if not text:
        return None
    ids = _msgids(text)
    if ids:
        return ids[0][:250]
    text = text.strip().strip("<>").strip()
    return text[:250] or None


# --- bodies ---------------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    """HTML to readable text. The stdlib parser suffices for mail bodies; a full converter
    (html2text is GPL) would add a dependency for little gain."""

    BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
             "blockquote", "pre", "hr", "ul", "ol", "section", "article", "header", "footer"}
    SKIP = {"script", "style", "head", "title", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "pre":
            self.pre += 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "blockquote":
            self.parts.append("> ")
        if tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # malformed markup: keep what was parsed
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        name = _clean(_decode_words(str(name)))
    return name or None


# --- replies --------------------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^.{0,200}\b(wrote|skrev|schrieb|a écrit|escribió|schreef|kirjoitti)\b.{0,200}:\s*$",
    re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|opprinnelig melding|videresendt melding|forwarded "
    r"message|ursprüngliche nachricht)\s*-{2,}\s*$", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*\**(from|fra|von|de)\s*:\**\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\**(sent|sendt|date|dato|gesendet|envoyé|to|til)\s*:",
                          re.IGNORECASE)
_MOBILE = re.compile(
    r"^\s*(sent from my|sendt fra min|hentet fra|get outlook for|sendt fra outlook|"
    r"sent from outlook|sendt fra e-post)\b", re.IGNORECASE)


def strip_reply(text: str) -> str:
    """The new text of a reply: quoted history, attribution lines and the signature cut off.
    When nothing is left (an inline answer inside the quote), the whole text."""
    lines = text.splitlines()
    cut = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        joined = f"{stripped} {lines[i + 1].strip()}" if i + 1 < len(lines) else stripped
        if stripped in ("--", "-- ") or line == "-- ":
            cut = i
            break
        if _SEPARATOR.match(line) or _MOBILE.match(line):
            cut = i
            break
        if stripped.startswith("____") and i + 1 < len(lines) and _HEADER_LINE.match(
                lines[i + 1]):
            cut = i
            break
        if _HEADER_LINE.match(line) and any(
                _HEADER_NEXT.match(n) for n in lines[i + 1:i + 5]):
            cut = i
            break
        if re.search(r"\d", joined) and (
                _ATTRIBUTION.match(stripped)
                or (not stripped.endswith(":") and _ATTRIBUTION.match(joined)
                    and i + 1 < len(lines) and lines[i + 1].strip().endswith(":"))):
            cut = i
            break
        if stripped.startswith(">") and all(
                not n.strip() or n.lstrip().startswith(">") for n in lines[i:]):
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()


# --- the message ----------------------------------------------------------------------------

def parse_message(raw: bytes) -> ParsedMail:
    """Parse one message. Raises MailParseError with the reason when it cannot be used."""
    if not raw or not raw.strip():
        raise MailParseError("the message is empty")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # pragma: no cover - the stdlib parser is lenient
        raise MailParseError(f"not a mail message: {type(exc).__name__}: {exc}") from None
    assert isinstance(msg, EmailMessage)
    if not any(True for _ in msg.raw_items()):
        raise MailParseError("no mail headers found")
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    from_email: str | None
    if senders:
        from_name, from_email = senders[0]
    elif msg.get_content_type() == "multipart/report" or re.search(
            r"<>|mailer.?daemon|postmaster", header(msg, "From"), re.IGNORECASE):
        from_name, from_email = header(msg, "From"), None  # a bounce with a null sender
    else:
        raise MailParseError("no sender: the From header is missing or unreadable")
    subject = header(msg, "Subject")

    present = {k.lower() for k in msg}
    headers: dict[str, str] = {name: header(msg, name) for name in (
        "auto-submitted", "precedence", "x-auto-response-suppress", "list-id",
        "list-unsubscribe", "return-path", "x-autoreply", "x-autorespond", "x-autogenerated",
        "x-failed-recipients", "x-loop") if name in present}
    date = None
    try:
        value = msg.get("Date")
        date = getattr(value, "datetime", None)
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    except Exception:
        date = None

    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    ctype = msg.get_content_type()
    report_type = ""
    if ctype == "multipart/report":
        param = msg.get_param("report-type") or ""
        report_type = str(param).lower()

    def walk(part: Message, in_alternative: bool = False) -> None:
        # One parse of Content-Type per part (each accessor would parse it again).
        maintype, _slash, subtype = part.get_content_type().partition("/")
        if part.is_multipart() and maintype == "multipart":
            # a multipart part's payload is its list of sub-parts
            for sub in cast("list[Message]", part.get_payload()):
                walk(sub, in_alternative or subtype == "alternative")
            return
        if maintype == "multipart":  # no boundary: the stdlib leaves the body as text
            plain.append(_part_text(part))
            return
        name = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if maintype == "text" and subtype in ("plain", "html") and not name \
                and disposition != "attachment":
            (plain if subtype == "plain" else html).append(_part_text(part))
            return
        if maintype == "message" or (maintype == "text" and subtype != "plain"
                                     and subtype != "html"):
            data = part.as_bytes() if maintype == "message" else (
                part.get_payload(decode=True) or b"")
            if maintype == "message" and part.is_multipart():
                inner = part.get_payload()
                if isinstance(inner, list) and inner:
                    data = inner[0].as_bytes() if hasattr(inner[0], "as_bytes") else data
            default = {"message/rfc822": "message.eml",
                       "message/delivery-status": "delivery-status.txt",
                       "text/rfc822-headers": "headers.txt"}.get(
                part.get_content_type(), f"part.{subtype}")
            attachments.append(Attachment(name or default, part.get_content_type(),
                                          bytes(data)))
            return
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        attachments.append(Attachment(name or f"attachment.{subtype}",
                                      part.get_content_type(), data))

    walk(msg)
    if plain and any(p.strip() for p in plain):
        text = "\n\n".join(p.strip() for p in plain if p.strip())
    elif html:
        text = "\n\n".join(html_to_text(h) for h in html)
    else:
        text = ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")[:MAX_TEXT]
    for att in attachments:
        att.filename = att.filename[:250]
    return ParsedMail(
        raw=raw,
        message_id=normalise_msgid(header(msg, "Message-ID")),
        from_email=from_email[:250] if from_email else None,
        from_name=from_name[:200] or None,
        subject=subject[:400],
        date=date,
        to=[a for _n, a in _addresses(msg, "To")],
        cc=[a for _n, a in _addresses(msg, "Cc")],
        in_reply_to=_msgids(header(msg, "In-Reply-To")),
        references=_msgids(header(msg, "References")),
        text=text,
        reply=strip_reply(text),
        attachments=attachments,
        headers=headers,
        content_type=ctype,
        report_type=report_type,
    )
