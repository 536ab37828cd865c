"""Parsing real-world mail and the loop guard, over the corpus in tests/data/mail/."""

from __future__ import annotations

from pathlib import Path

import pytest

from pob_tui.mail.loopguard import classify
from pob_tui.mail.parse import MailParseError, html_to_text, parse_message, strip_reply
from pob_tui.mail.thread import (
    clean_subject,
    make_message_id,
    number_in_message_id,
    subject_tag,
    tagged,
)

CORPUS = Path(__file__).parent / "data" / "mail"
OWN = frozenset({"servicedesk@pob-kommune.no"})
MONITORS = ("zabbix@drift.pob-kommune.no",)


def load(name: str):
    return parse_message((CORPUS / name).read_bytes())


def verdict(name: str):
    return classify(load(name), own_addresses=OWN, monitoring_senders=MONITORS)


def test_every_corpus_file_has_its_origin_noted() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in CORPUS.glob("*.eml"):
        assert path.name in readme, f"{path.name} has no origin in tests/data/mail/README.md"


@pytest.mark.parametrize(("name", "sender", "subject", "text"), [
    ("iso8859_1_new.eml", ("borre.asheim@pob-kommune.no", "Børre Åsheim"),
     "Får ikke logget på Visma etter passordbytte", "«Ugyldig brukernavn eller passord»"),
    ("windows1252_mislabelled.eml", ("line.dahl@pob-kommune.no", "Line Dahl"),
     "Faktura fra leverandor feiler", "1 250 € står som “avvist” i systemet – kan"),
    ("iso2022jp.eml", ("tanaka@example.jp", "田中"), "パスワードがわかりません",
     "パスワードを忘れました。"),
    ("gbk.eml", ("li.ming@example.cn", "李明"), "打印机不能打印", "打印机不能打印，请帮忙。"),
    ("outlook_reply_nb.eml", ("kari.n@pob-kommune.no", "Nordmann, Kari"),
     "SV: [INC-000001] Skriveren på lærerværelset skriver ikke ut", "skjermen er helt svart"),
    ("broken_encoded_words.eml", ("gra.bruker@pob-kommune.no", "Grå Bruker"),
     "Skjermen flimrer på møterommet æøå", "Skjermen på møterommet flimrer."),
])
def test_charsets_and_encoded_words(name: str, sender: tuple[str, str], subject: str,
                                    text: str) -> None:
    mail = load(name)
    assert (mail.from_email, mail.from_name) == sender
    assert mail.subject.startswith(subject)
    assert text in mail.text
    assert "\ufffd" not in mail.subject + mail.text


def test_html_only_mail_becomes_readable_text() -> None:
    mail = load("html_only.eml")
    assert "Teams starter ikke på PC-en min" in mail.text
    assert "- Feilkode: 0xCAA70004" in mail.text
    assert "alert(1)" not in mail.text and "color:red" not in mail.text and "<" not in mail.text


def test_outlook_reply_loses_the_quoted_history_but_the_original_keeps_it() -> None:
    mail = load("outlook_reply_nb.eml")
    assert mail.reply.startswith("Hei igjen,")
    assert mail.reply.endswith("Kari")
    assert "vi har mottatt saken din" not in mail.reply
    assert "vi har mottatt saken din" in mail.text
    assert mail.in_reply_to == ["pob.INC-000001.0a1b2c3d4e5f6071@pob-kommune.no"]


def test_gmail_reply_wrapped_attribution_and_quotes_cut() -> None:
    mail = load("gmail_reply_en.eml")
    assert mail.reply == "Thanks, the new client fixed it — no drops since this morning."


@pytest.mark.parametrize(("text", "kept"), [
    ("Takk!\n\n-- \nKari Nordmann\nHosle skole", "Takk!"),
    ("Ok\n\nSendt fra min iPhone", "Ok"),
    ("Fint\n-----Original Message-----\nFrom: x", "Fint"),
    ("Ja\n\nDen tir. 17. nov. 2026 kl. 09:12 skrev Servicedesk <sd@x.no>:\n> Hei", "Ja"),
    ("> only a quote\n> nothing else", "> only a quote\n> nothing else"),
])
def test_strip_reply(text: str, kept: str) -> None:
    assert strip_reply(text) == kept


def test_attachments_are_listed_with_decoded_names() -> None:
    mail = load("attachments.eml")
    names = [(a.filename, a.content_type) for a in mail.attachments]
    assert names == [("skjermbilde før.png", "image/png"), ("logg.pdf", "application/pdf")]
    assert mail.attachments[0].data.startswith(b"\x89PNG")
    assert mail.reply == "Se vedlagt skjermbilde og logg."


@pytest.mark.parametrize(("name", "reason"), [
    ("no_sender_garbage.eml", "no mail headers"),
    ("cpython_msg_18.eml", "no sender"),
])
def test_unusable_messages_raise_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(MailParseError, match=reason):
        load(name)


def test_empty_input_is_unusable() -> None:
    with pytest.raises(MailParseError, match="empty"):
        parse_message(b"  \r\n")


@pytest.mark.parametrize(("name", "kind"), [
    ("out_of_office_exchange.eml", "auto_reply"),
    ("out_of_office_subject_only.eml", "auto_reply"),
    ("dsn_bounce_postfix.eml", "bounce"),
    ("cpython_msg_16.eml", "bounce"),
    ("cpython_msg_25.eml", "bounce"),
    ("cpython_msg_43.eml", "bounce"),
    ("mailing_list.eml", "bulk"),
    ("monitoring_alert.eml", "monitoring"),
    ("new_request_utf8.eml", None),
    ("outlook_reply_nb.eml", None),
    ("gmail_reply_en.eml", None),
    ("iso2022jp.eml", None),
])
def test_loop_guard_classifies_the_corpus(name: str, kind: str | None) -> None:
    v = verdict(name)
    assert v.kind == kind
    assert v.may_answer is (kind is None)


@pytest.mark.parametrize(("extra", "kind"), [
    ("Auto-Submitted: auto-generated\r\n", "auto_generated"),
    ("Auto-Submitted: no\r\n", None),
    ("Precedence: junk\r\n", "bulk"),
    ("Precedence: list\r\n", "bulk"),
    ("X-Auto-Response-Suppress: OOF\r\n", "auto_generated"),
    ("List-Id: <x.example>\r\n", "list"),
    ("List-Unsubscribe: <mailto:u@example>\r\n", "list"),
    ("Return-Path: <>\r\n", "bounce"),
    ("X-Autoreply: yes\r\n", "auto_reply"),
])
def test_each_rfc3834_signal_blocks_an_answer(extra: str, kind: str | None) -> None:
    raw = ("From: a@b.example\r\nTo: sd@pob-kommune.no\r\nSubject: hei\r\n"
           "Message-ID: <x@y>\r\n" + extra + "\r\nbody\r\n").encode()
    v = classify(parse_message(raw), own_addresses=OWN)
    assert v.kind == kind
    assert v.may_answer is (kind is None)


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@x.example",
                                    "servicedesk@pob-kommune.no"])
def test_daemons_and_our_own_address_are_never_answered(sender: str) -> None:
    raw = f"From: {sender}\r\nSubject: hei\r\n\r\nbody\r\n".encode()
    assert not classify(parse_message(raw), own_addresses=OWN).may_answer


def test_threading_keys() -> None:
    mid = make_message_id("INC-000123", "pob-kommune.no")
    assert number_in_message_id(mid, "pob-kommune.no") == "INC-000123"
    assert number_in_message_id(mid, "other.example") is None
    assert subject_tag("SV: Re: [INC-000123] Outlook") == "INC-000123"
    assert subject_tag("INC-000123 without brackets") is None
    assert tagged("SV: [INC-000123] Outlook", "INC-000123") == "[INC-000123] Outlook"
    assert clean_subject("RE: SV:[INC-000001] Skriver") == "Skriver"


@pytest.mark.parametrize("html", ["<p>unclosed <b>bold", "<<<>>>", "<script>x", "&#99999999;"])
def test_html_to_text_never_fails(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_an_administrators_template_wins_and_the_sandbox_holds(tmp_path) -> None:
    """`[mail] templates_dir` overrides a built-in text; a template reaching for Python
    internals is a one-line configuration error, not code run on the server."""
    from pob_tui.errors import ConfigError
    from pob_tui.mail.templates import render

    (tmp_path / "acknowledgement.en.txt").write_text(
        "[{{ number }}] Received\nDear {{ caller }}, we have it.\n", encoding="utf-8")
    subject, body = render("acknowledgement", "en", {"number": "INC-000007", "caller": "Kari"},
                           templates_dir=str(tmp_path))
    assert subject == "[INC-000007] Received" and body == "Dear Kari, we have it.\n"
    subject_nb, _body = render("acknowledgement", "nb", {
        "number": "INC-000007", "summary": "Skriver", "caller_name": "Kari",
        "desk_name": "Servicedesk"},
        templates_dir=str(tmp_path))
    assert subject_nb != subject  # no nb override: the built-in Norwegian text
    (tmp_path / "comment.en.txt").write_text(
        "x\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mail template comment\.en\.txt"):
        render("comment", "en", {}, templates_dir=str(tmp_path))
