"""Mail out through a real SMTP server (aiosmtpd on loopback): acknowledgements, comments,
resolution with a score request, threading headers, loop headers, and who is never mailed.
Protocol tests run on SQLite; the intake core runs on both backends (test_mail_ingest.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pob_tui.channels.mail.out import deliver
from pob_tui.config import load_settings
from pob_tui.db import Database, make_engine
from pob_tui.mail.config import mail_config
from pob_tui.models import MailMessage, Person
from pob_tui.services import incidents as inc_svc
from pob_tui.services import mail as svc
from tests.mail_fixtures import SmtpServer, TlsSmtp, smtp, smtp_server, tls_smtp  # noqa: F401

CORPUS = Path(__file__).parent / "data" / "mail"


@pytest.fixture
def sworld(tmp_path: Path, templates) -> Iterator:
    from tests.conftest import _fresh_url
    from tests.factories import build_world

    urls = _fresh_url("sqlite", tmp_path, templates, "empty", None)
    db = Database(make_engine(next(urls)))
    yield build_world(db)
    db.dispose()


@pytest.fixture
def settings(sworld, smtp: SmtpServer):  # noqa: F811
    return dataclasses.replace(
        load_settings(env={}), database_url=str(sworld.db.engine.url),
        mail_smtp_url=smtp.url, mail_from_address="servicedesk@pob-kommune.no",
        mail_message_id_domain="pob-kommune.no", mail_rate_limit_per_hour=5)


def ingest(world, settings, name: str, raw: bytes | None = None) -> svc.IngestResult:
    with world.db.session() as s:
        return svc.ingest_bytes(s, raw or (CORPUS / name).read_bytes(), mail_config(settings))


def test_new_mail_is_acknowledged_threaded_and_loop_safe(sworld, settings, smtp) -> None:  # noqa: F811
    r = ingest(sworld, settings, "new_request_utf8.eml")
    report = deliver(settings, sworld.db)
    assert (report.sent, report.failed) == (1, 0)
    [ack] = smtp.take()
    assert ack["To"].addresses[0].addr_spec == "kari.n@pob-kommune.no"
    assert ack["Subject"].startswith(f"[{r.ticket}] Vi har mottatt saken din")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert ack["In-Reply-To"] == "<CAJx7p1=new-utf8-0001@mail.pob-kommune.no>"
    our_id = ack["Message-ID"].strip("<>")
    assert our_id.startswith(f"pob.{r.ticket}.") and our_id.endswith("@pob-kommune.no")
    assert r.ticket in ack.get_content()
    # Sent once: another run sends nothing.
    assert deliver(settings, sworld.db).sent == 0
    # The caller's reply to the acknowledgement threads back by our Message-ID.
    reply = (f"From: Kari <kari.n@pob-kommune.no>\r\nSubject: SV: {ack['Subject']}\r\n"
             f"Message-ID: <kari-reply-1@pob-kommune.no>\r\nIn-Reply-To: <{our_id}>\r\n"
             f"\r\nDen står fortsatt på venter.\r\n").encode()
    back = ingest(sworld, settings, "", raw=reply)
    assert (back.action, back.ticket) == ("reply", r.ticket)
    # Nobody is mailed about their own action: the caller gets no copy of her reply.
    deliver(settings, sworld.db)
    assert smtp.take() == []
    # The timeline shows the mail both ways.
    with sworld.db.session() as s:
        kinds = [e["kind"] for e in inc_svc.incident_detail(s, r.ticket)["events"]]
    assert "mail_out" in kinds and "mail_in" in kinds


def test_out_of_office_and_bounce_start_no_loop(sworld, settings, smtp) -> None:  # noqa: F811
    ingest(sworld, settings, "new_request_utf8.eml")
    deliver(settings, sworld.db)
    smtp.take()
    ooo = (CORPUS / "out_of_office_exchange.eml").read_bytes().replace(
        b"per.hansen@", b"kari.n@")
    assert ingest(sworld, settings, "", raw=ooo).action == "reply"
    assert ingest(sworld, settings, "dsn_bounce_postfix.eml").action == "ignored"
    assert deliver(settings, sworld.db).sent == 0
    assert smtp.take() == []


def test_comment_goes_to_the_caller_work_note_never(sworld, settings, smtp) -> None:  # noqa: F811
    r = ingest(sworld, settings, "new_request_utf8.eml")
    deliver(settings, sworld.db)
    smtp.take()
    with sworld.db.session() as s:
        inc_svc.comment(s, sworld.anne, r.ticket, "Vi bytter toneren i dag.")
        inc_svc.comment(s, sworld.anne, r.ticket, "Intern: toner på lager", work_note=True)
    deliver(settings, sworld.db)
    [mail] = smtp.take()
    body = mail.get_content()
    assert "Vi bytter toneren i dag." in body and "Intern" not in body
    assert "Anne Agent" in body
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["In-Reply-To"] == "<CAJx7p1=new-utf8-0001@mail.pob-kommune.no>"
    assert f"[{r.ticket}]" in mail["Subject"]


def test_resolution_asks_for_a_score_in_the_callers_language(sworld, settings, smtp) -> None:  # noqa: F811
    with sworld.db.session() as s:
        s.get(Person, sworld.kari_id).language = "en"
    r = ingest(sworld, settings, "new_request_utf8.eml")
    with sworld.db.session() as s:
        inc_svc.resolve(s, sworld.anne, r.ticket, code="solved", note="New toner fitted.")
    deliver(settings, sworld.db)
    ack, resolved = smtp.take()
    assert ack["Subject"].startswith(f"[{r.ticket}] We have received your request")
    assert resolved["Subject"].startswith(f"[{r.ticket}] Your request is resolved")
    assert "New toner fitted." in resolved.get_content()
    assert "number from 1" in resolved.get_content()
    score = (f"From: kari.n@pob-kommune.no\r\nSubject: Re: {resolved['Subject']}\r\n"
             f"Message-ID: <score-2@x>\r\nIn-Reply-To: {resolved['Message-ID']}\r\n\r\n"
             f"3\r\nFor treigt.\r\n").encode()
    assert ingest(sworld, settings, "", raw=score).reason == "satisfaction score 3"
    with sworld.db.session() as s:
        assert inc_svc.get_incident(s, r.ticket).satisfaction == 3
        assert inc_svc.list_follow_ups(s)[0]["number"] == r.ticket


def test_agent_calling_about_their_own_incident_gets_no_mail(sworld, settings, smtp) -> None:  # noqa: F811
    with sworld.db.session() as s:
        anne_person = s.execute(select(Person).where(Person.username == "anne")).scalar_one()
        inc = inc_svc.create_incident(s, sworld.anne, inc_svc.NewIncident(
            caller=anne_person.id, summary="Min egen PC"))
        inc_svc.comment(s, sworld.anne, inc.number, "Notat til meg selv")
    svc_cfg = mail_config(settings)
    with sworld.db.session() as s:
        svc.queue_outgoing(s, svc_cfg)
    assert deliver(settings, sworld.db).sent == 0
    assert smtp.take() == []


def test_caller_reply_mails_the_assignee(sworld, settings, smtp) -> None:  # noqa: F811
    r = ingest(sworld, settings, "new_request_utf8.eml")
    with sworld.db.session() as s:
        inc_svc.assign(s, sworld.anne, r.ticket, to_me=True)
    deliver(settings, sworld.db)
    smtp.take()
    ingest(sworld, settings, "", raw=(
        b"From: kari.n@pob-kommune.no\r\nSubject: Re: [INC-000001] x\r\n"
        b"Message-ID: <r-9@x>\r\n\r\nHar dere sett paa den?\r\n"))
    deliver(settings, sworld.db)
    [mail] = smtp.take()
    assert mail["To"].addresses[0].addr_spec == "anne@pob-kommune.no"
    assert "Har dere sett paa den?" in mail.get_content()


def test_rate_limit_suppresses_mail_to_one_address(sworld, settings, smtp) -> None:  # noqa: F811
    settings = dataclasses.replace(settings, mail_rate_limit_per_hour=2)
    r = ingest(sworld, settings, "new_request_utf8.eml")
    with sworld.db.session() as s:
        for i in range(3):
            inc_svc.comment(s, sworld.anne, r.ticket, f"Melding {i}")
    report = deliver(settings, sworld.db)
    assert report.sent == 2 and report.suppressed == 2
    assert len(smtp.take()) == 2
    with sworld.db.session() as s:
        reasons = s.execute(select(MailMessage.reason).where(
            MailMessage.status == "suppressed")).scalars().all()
    assert all("rate limit" in (x or "") for x in reasons)


def test_cli_comment_is_mailed_after_commit(sworld, settings, smtp, tmp_path) -> None:  # noqa: F811
    from pob_tui.cli import main

    r = ingest(sworld, settings, "new_request_utf8.eml")
    cfg = tmp_path / "pob.toml"
    cfg.write_text(f'[mail]\nsmtp_url = "{smtp.url}"\n'
                   'from_address = "servicedesk@pob-kommune.no"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "--db", str(sworld.db.engine.url), "incident", "update",
                 r.ticket, "--comment", "Vi ser på det."], actor=sworld.anne) == 0
    subjects = [m["Subject"] for m in smtp.take()]
    assert any("Ny melding i saken din" in x for x in subjects)


def test_unreachable_smtp_server_is_exit_3(sworld, settings, capsys) -> None:
    from pob_tui.cli import main
    from tests.mail_fixtures import free_port

    ingest(sworld, settings, "new_request_utf8.eml")
    cfg = Path(str(sworld.db.engine.url.database)).parent / "bad.toml"
    cfg.write_text(f'[mail]\nsmtp_url = "smtp://127.0.0.1:{free_port()}"\n'
                   'from_address = "servicedesk@pob-kommune.no"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "--db", str(sworld.db.engine.url), "mail", "send"]) == 3
    assert "cannot be used" in capsys.readouterr().err


def test_starttls_with_a_private_ca_and_a_login(sworld, settings, tls_smtp: TlsSmtp,  # noqa: F811
                                                capsys) -> None:
    """A server that takes mail only after STARTTLS and a login: pob sends over TLS with the
    private CA as `[mail] ca_file`; with another CA the certificate is refused (exit 3, one
    line) and the mail stays queued."""
    from pob_tui.cli import main

    server = tls_smtp.server
    server.take()
    r = ingest(sworld, settings, "new_request_utf8.eml")
    ingest(sworld, settings, "iso8859_1_new.eml")  # no caller, no acknowledgement
    r2 = ingest(sworld, settings, "", raw=(CORPUS / "new_request_utf8.eml").read_bytes()
                .replace(b"Message-ID: <", b"Message-ID: <second."))
    cfg = Path(str(sworld.db.engine.url.database)).parent / "tls.toml"
    base = (f'[mail]\nsmtp_url = "smtp://127.0.0.1:{server.port}"\n'
            'smtp_user = "desk"\nsmtp_password = "secret"\n'
            'from_address = "servicedesk@pob-kommune.no"\n')
    cfg.write_text(base + f'ca_file = "{tls_smtp.wrong_ca}"\n', encoding="utf-8")
    db = ["--config", str(cfg), "--db", str(sworld.db.engine.url)]
    assert main([*db, "mail", "send"]) == 3
    err = capsys.readouterr().err
    assert "certificate verify failed" in err and len(err.strip().splitlines()) == 1, err
    assert server.take() == []
    tls = dataclasses.replace(settings, mail_smtp_url=f"smtp://127.0.0.1:{server.port}",
                              mail_smtp_user="desk", mail_smtp_password="secret",
                              mail_ca_file=str(tls_smtp.ca_file))
    report = deliver(tls, sworld.db)
    assert (report.sent, report.failed) == (2, 0)
    got = server.take()
    assert sorted(m["Subject"][:12] for m in got) == sorted(f"[{n}]" for n in
                                                             (r.ticket, r2.ticket))
    assert {(m["X-Test-TLS"], m["X-Test-Login"]) for m in got} == {("yes", "desk")}
