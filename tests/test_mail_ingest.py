"""The mail intake core on both backends: threading, duplicates, loops, scores, follow-ups,
unknown senders, held messages and dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pob_tui.mail.config import MailConfig
from pob_tui.models import FollowUp, Incident, MailAttachment, MailMessage, TicketEvent
from pob_tui.services import incidents as inc_svc
from pob_tui.services import mail as svc

CORPUS = Path(__file__).parent / "data" / "mail"
CFG = MailConfig(from_address="servicedesk@pob-kommune.no", message_id_domain="pob-kommune.no",
                 monitoring_senders=("zabbix@drift.pob-kommune.no",), rate_limit_per_hour=20,
                 max_attachment_mb=0.0005)


def ingest(world, name: str, *, dry_run: bool = False, cfg: MailConfig = CFG,
           raw: bytes | None = None) -> svc.IngestResult:
    with world.db.session() as s:
        return svc.ingest_bytes(s, raw if raw is not None else (CORPUS / name).read_bytes(),
                                cfg, dry_run=dry_run)


def incident(world, number: str) -> Incident:
    with world.db.session() as s:
        return inc_svc.get_incident(s, number)


def events(world, number: str) -> list[tuple[str, str | None]]:
    with world.db.session() as s:
        inc = inc_svc.get_incident(s, number)
        return [(e.kind, e.comment) for e in s.execute(
            select(TicketEvent).where(TicketEvent.ticket_id == inc.id,
                                      TicketEvent.ticket_type == "incident")
            .order_by(TicketEvent.id)).scalars()]


def test_new_mail_from_a_known_caller_becomes_an_incident(world) -> None:
    r = ingest(world, "new_request_utf8.eml")
    assert (r.action, r.ticket, r.from_email) == ("new", "INC-000001", "kari.n@pob-kommune.no")
    inc = incident(world, "INC-000001")
    assert inc.caller_id == world.kari_id and inc.channel == "email"
    assert inc.summary == "Skriveren på lærerværelset skriver ikke ut"
    assert "jobbene blir liggende i køen" in (inc.description or "")
    with world.db.session() as s:
        assert s.get(__import__("pob_tui.models", fromlist=["Service"]).Service,
                     inc.service_id).code == "PRINT"  # guessed from the keyword "skriver"
        row = s.execute(select(MailMessage).where(MailMessage.incident_id == inc.id)).scalar_one()
        assert row.raw == (CORPUS / "new_request_utf8.eml").read_bytes()  # kept for audit
    assert ("created", "email: Skriveren på lærerværelset skriver ikke ut") in events(
        world, "INC-000001")


def test_same_message_twice_is_a_duplicate(world) -> None:
    first = ingest(world, "new_request_utf8.eml")
    again = ingest(world, "new_request_utf8.eml")
    assert (again.action, again.ticket) == ("duplicate", first.ticket)
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(Incident)).scalar_one() == 1


def test_reply_threads_by_our_message_id_and_resumes_a_waiting_incident(world) -> None:
    ingest(world, "new_request_utf8.eml")
    with world.db.session() as s:
        inc_svc.set_status(s, world.anne, "INC-000001", "waiting_caller")
    r = ingest(world, "outlook_reply_nb.eml")
    assert (r.action, r.ticket) == ("reply", "INC-000001")
    inc = incident(world, "INC-000001")
    assert inc.status == "in_progress"
    comments = [c for k, c in events(world, "INC-000001") if k == "mail_in"]
    assert comments and comments[0].startswith("Hei igjen,")
    assert "vi har mottatt saken din" not in comments[0]
    with world.db.session() as s:
        assert svc.unread_replies(s, [inc.id]) == {inc.id}
        svc.mark_read(s, "INC-000001")
    with world.db.session() as s:
        assert svc.unread_replies(s, [inc.id]) == set()


def test_subject_tag_threads_only_for_the_caller(world) -> None:
    ingest(world, "new_request_utf8.eml")
    from_caller = (b"From: Kari <kari.n@pob-kommune.no>\r\nSubject: Re: [INC-000001] x\r\n"
                   b"Message-ID: <tag-1@x>\r\n\r\nMer info.\r\n")
    stranger = (b"From: Eve <eve@evil.example>\r\nSubject: [INC-000001] x\r\n"
                b"Message-ID: <tag-2@x>\r\n\r\nHijack.\r\n")
    assert ingest(world, "", raw=from_caller).action == "reply"
    r = ingest(world, "", raw=stranger)
    assert (r.action, r.ticket) == ("new", "INC-000002")
    assert "Needs caller" in (r.reason or "")


def test_out_of_office_on_a_thread_is_noted_and_answers_nothing(world) -> None:
    ingest(world, "new_request_utf8.eml")
    r = ingest(world, "out_of_office_exchange.eml")
    assert (r.action, r.ticket) == ("reply", "INC-000001")
    assert "automatic reply noted" in (r.reason or "")
    kinds = [k for k, _c in events(world, "INC-000001")]
    assert "mail_auto" in kinds and "mail_in" not in kinds


@pytest.mark.parametrize("name", ["out_of_office_subject_only.eml", "dsn_bounce_postfix.eml",
                                  "cpython_msg_43.eml", "mailing_list.eml"])
def test_automatic_mail_off_any_thread_is_ignored_with_a_reason(world, name: str) -> None:
    r = ingest(world, name)
    assert r.action == "ignored" and r.ticket is None and r.reason
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(Incident)).scalar_one() == 0
        assert [m.reason for m in svc.list_mail(s, view="ignored")] == [r.reason]


def test_monitoring_alert_opens_a_monitoring_incident(world) -> None:
    r = ingest(world, "monitoring_alert.eml")
    assert r.action == "new"
    assert incident(world, r.ticket).channel == "monitoring"
    # From a sender not configured, the same alert is only ignored.
    other = MailConfig(from_address=CFG.from_address, message_id_domain=CFG.message_id_domain)
    raw = (CORPUS / "monitoring_alert.eml").read_bytes().replace(b"4711@", b"4712@")
    assert ingest(world, "", raw=raw, cfg=other).action == "ignored"


def test_unknown_sender_waits_in_needs_caller_until_an_agent_picks_one(world) -> None:
    r = ingest(world, "iso8859_1_new.eml")
    assert r.action == "new"
    with world.db.session() as s:
        rows = svc.list_mail(s, view="needs_caller")
        assert [(m.ticket, m.address) for m in rows] == [(r.ticket,
                                                          "borre.asheim@pob-kommune.no")]
    with world.db.session() as s:
        svc.set_caller(s, world.anne, r.ticket, "kari.n")
    with world.db.session() as s:
        assert svc.list_mail(s, view="needs_caller") == []


def test_an_agent_creates_the_unknown_sender_as_the_caller_in_one_step(world) -> None:
    from pob_tui.errors import InvalidInput, PermissionDenied
    from pob_tui.models import AdminEvent, Person
    from pob_tui.services.identity import Actor

    r = ingest(world, "iso8859_1_new.eml")
    with world.db.session() as s:
        (row,) = svc.list_mail(s, view="needs_caller")
    assert svc.split_name(row.name) == ("Børre", "Åsheim")
    assert svc.suggest_username(row.address) == "borre.asheim"

    def create(actor=world.anne, **kw):  # type: ignore[no-untyped-def]
        values = dict(first_name="Børre", last_name="Åsheim", email=row.address,
                      username="borre.asheim", phone="+4790000001") | kw
        with world.db.session() as s:
            return svc.create_caller(s, actor, r.ticket, **values).username

    def counts() -> tuple[int, int, int]:
        with world.db.session() as s:
            return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (Person, AdminEvent, TicketEvent))  # type: ignore[return-value]

    before = counts()
    # Taken username (whatever its case) or e-mail: one clean refusal, nothing written.
    with pytest.raises(InvalidInput, match=r"username kari\.n is taken"):
        create(username="Kari.N")
    with pytest.raises(InvalidInput, match=r"e-mail KARI\.N@pob-kommune\.no is already kari\.n.s"):
        create(email="KARI.N@pob-kommune.no")
    with pytest.raises(InvalidInput, match="is not an e-mail address"):
        create(email="borre")
    with pytest.raises(PermissionDenied):
        create(actor=Actor("someone"))
    assert counts()[0] == before[0] and counts()[2] == before[2]

    assert create() == "borre.asheim"
    with world.db.session() as s:
        assert svc.list_mail(s, view="needs_caller") == []
        person = s.execute(select(Person).where(Person.username == "borre.asheim")).scalar_one()
        assert (person.first_name, person.last_name, person.email, person.phone, person.active) \
            == ("Børre", "Åsheim", "borre.asheim@pob-kommune.no", "+4790000001", True)
        assert inc_svc.get_incident(s, r.ticket).caller_id == person.id
        audit = s.execute(select(AdminEvent).where(AdminEvent.action == "person.create")
                          ).scalar_one()
        assert (audit.actor, audit.target) == ("anne", "borre.asheim")
        assert r.ticket in (audit.detail or "")
    assert ("field", "caller: borre.asheim") in events(world, r.ticket)
    # Creating them again is refused; their next mail has a caller and needs nobody.
    with pytest.raises(InvalidInput, match=r"username borre\.asheim is taken"):
        create()
    raw = (CORPUS / "iso8859_1_new.eml").read_bytes()
    again = ingest(world, "", raw=raw.replace(b"Message-ID: <", b"Message-ID: <again."))
    assert again.action == "new" and incident(world, again.ticket).caller_id == person.id


def test_score_by_mail_records_satisfaction_and_a_low_one_the_follow_up(world) -> None:
    ingest(world, "new_request_utf8.eml")
    with world.db.session() as s:
        inc_svc.resolve(s, world.anne, "INC-000001", code="solved", note="Ny toner.")
    r = ingest(world, "score_reply.eml")
    assert (r.action, r.ticket, r.reason) == ("reply", "INC-000001", "satisfaction score 2")
    inc = incident(world, "INC-000001")
    assert inc.satisfaction == 2 and inc.satisfaction_comment == "Det tok tre dager."
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 1


def test_reply_to_a_closed_incident_opens_a_linked_follow_up(world) -> None:
    ingest(world, "new_request_utf8.eml")
    with world.db.session() as s:
        inc_svc.resolve(s, world.anne, "INC-000001", code="solved", note="Ny toner.")
        inc_svc.set_status(s, world.anne, "INC-000001", "closed")
    r = ingest(world, "outlook_reply_nb.eml")
    assert (r.action, r.ticket) == ("new", "INC-000002")
    assert r.reason == "follow-up of INC-000001, which is closed"
    assert incident(world, "INC-000001").status == "closed"
    assert ("link", "follow-up of INC-000001") in events(world, "INC-000002")


def test_broken_message_is_held_once_never_lost(world) -> None:
    r = ingest(world, "no_sender_garbage.eml")
    assert (r.action, r.ticket) == ("held", None) and "no mail headers" in (r.reason or "")
    assert ingest(world, "no_sender_garbage.eml").action == "duplicate"
    with world.db.session() as s:
        held = s.execute(select(MailMessage).where(MailMessage.action == "held")).scalar_one()
        assert held.raw == (CORPUS / "no_sender_garbage.eml").read_bytes()


def test_attachments_are_kept_up_to_the_size_limit_and_listed(world) -> None:
    r = ingest(world, "attachments.eml")  # limit 512 bytes: the PNG is kept, the PDF is not
    with world.db.session() as s:
        atts = s.execute(select(MailAttachment).order_by(MailAttachment.id)).scalars().all()
        assert [(a.filename, a.data is not None) for a in atts] == [
            ("skjermbilde før.png", True), ("logg.pdf", False)]
    listed = [c for k, c in events(world, r.ticket) if k == "mail_in"]
    assert listed and "logg.pdf" in listed[0] and "too large" in listed[0]


def test_rate_limit_caps_one_sender(world) -> None:
    cfg = MailConfig(from_address=CFG.from_address, rate_limit_per_hour=2)
    actions = [ingest(world, "", cfg=cfg, raw=(
        f"From: kari.n@pob-kommune.no\r\nSubject: nr {i}\r\nMessage-ID: <rate-{i}@x>\r\n\r\n"
        f"tekst\r\n").encode()).action for i in range(3)]
    assert actions == ["new", "new", "ignored"]


def test_dry_run_writes_nothing_and_names_the_thread(world) -> None:
    assert ingest(world, "new_request_utf8.eml", dry_run=True).ticket is None
    ingest(world, "new_request_utf8.eml")
    r = ingest(world, "outlook_reply_nb.eml", dry_run=True)
    assert (r.action, r.ticket) == ("reply", "INC-000001")
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(MailMessage)).scalar_one() == 1


def test_cli_ingest_json_and_exit_codes(world, db_url: str, capsys) -> None:
    from pob_tui.cli import main

    files = [str(CORPUS / n) for n in ("new_request_utf8.eml", "dsn_bounce_postfix.eml",
                                       "no_sender_garbage.eml")]
    assert main(["--db", db_url, "mail", "ingest", "--dry-run", "--format", "json",
                 *files]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [tuple(o) for o in out] == [(
        "file", "message_id", "from_email", "from_name", "subject", "action", "ticket",
        "reason")] * 3
    assert [(o["action"], o["ticket"]) for o in out] == [("new", None), ("ignored", None),
                                                         ("held", None)]
    assert out[0]["subject"] == "Skriveren på lærerværelset skriver ikke ut"
    assert out[0]["file"] == files[0]
    assert main(["--db", db_url, "mail", "ingest", files[0]]) == 0
    assert "new INC-000001" in capsys.readouterr().out
    assert main(["--db", db_url, "mail", "ingest", "/nonexistent.eml"]) == 2
    assert "cannot be read" in capsys.readouterr().err
