"""Mail in the TUI (SQLite): the queue marks an unread caller reply until the incident is
opened, the timeline shows mail in, and the mail view lists "Needs caller" and ignored mail
and picks a caller by keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.mail.config import MailConfig
from pob_tui.services import mail as mail_svc
from pob_tui.services.identity import Actor
from tests.factories import build_world
from tests.tui.conftest import NOW, screen_text, settle

CORPUS = Path(__file__).parent.parent / "data" / "mail"
CFG = MailConfig(from_address="servicedesk@pob-kommune.no", message_id_domain="pob-kommune.no")


@pytest.fixture
def mail_url(tmp_path: Path, templates) -> str:
    from tests.conftest import _fresh_url

    url = next(_fresh_url("sqlite", tmp_path, templates, "empty", None))
    db = Database(make_engine(url))
    build_world(db)
    for name in ("new_request_utf8.eml", "outlook_reply_nb.eml", "iso8859_1_new.eml",
                 "dsn_bounce_postfix.eml"):
        with db.session() as s:
            mail_svc.ingest_bytes(s, (CORPUS / name).read_bytes(), CFG, now=NOW)
    db.dispose()
    return url


async def test_unread_mark_timeline_and_mail_view(mail_url, make_app) -> None:
    from pob_tui.tui.screens.mail import MailScreen
    from pob_tui.tui.widgets.paged_table import PagedTable

    app = make_app(mail_url, actor=Actor("anne"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "✉ Skriveren på lærerværels…" in text  # Kari replied by mail (cut to fit)
        await pilot.press("slash", *"INC-000001")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        timeline = screen_text(app)
        assert "system mail in" in timeline and "Hei igjen," in timeline
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        assert "✉" not in screen_text(app)  # opened: read (a new incident is no reply)

        app.action_mail()
        await settle(pilot)
        assert isinstance(app.screen, MailScreen)
        text = screen_text(app)
        assert "Børre Åsheim <borre.asheim" in text
        assert "INC-000002" in text
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*"kari.n", "enter")
        await settle(pilot)
        assert app.screen.query_one(PagedTable).row_count == 0
        await pilot.press("right_square_bracket")  # ignored
        await settle(pilot)
        text = screen_text(app)
        assert "Ignored mail: 1" in text and "Undelivered Mail Returned" in text


async def test_mail_view_fits_80x24(mail_url, make_app) -> None:
    app = make_app(mail_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_mail()
        await settle(pilot)
        text = screen_text(app)
        assert "Needs caller" in text and "INC-000002" in text


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24"),
                                  pytest.param((160, 50), id="160x50")])
def test_mail_view_snapshot(snap_compare, mail_url, make_app, size) -> None:
    from tests.tui.conftest import settle as _settle

    async def open_mail(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        pilot.app.action_mail()
        await _settle(pilot)

    app = make_app(mail_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=size, run_before=open_mail)


async def test_create_the_unknown_sender_as_caller_at_80x24(mail_url, make_app) -> None:
    from pob_tui.models import Person
    from pob_tui.services import incidents as inc_svc
    from pob_tui.tui.widgets.paged_table import PagedTable

    app = make_app(mail_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_mail()
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        form = screen_text(app)  # prefilled from the mail's From
        assert "New caller of INC-000002" in form
        for value in ("Børre", "Åsheim", "borre.asheim@pob-kommune.no", "Phone (optional)"):
            assert value in form, value
        assert form.count("borre.asheim") == 2  # e-mail and the suggested username
        # An e-mail address someone already has: one clean line, nothing written.
        await pilot.press("enter", "enter", "ctrl+u", *"kari.n@pob-kommune.no",
                          "enter", "enter", "enter")
        await settle(pilot)
        assert [(n.message, n.severity) for n in app.notes] == [
            ("e-mail kari.n@pob-kommune.no is already kari.n's; pick them with p", "warning")]
        assert app.screen.query_one(PagedTable).row_count == 1
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter", "enter", "enter", "enter", *"+4790000001", "enter")
        await settle(pilot)
        assert app.notes[-1].message == "INC-000002: caller borre.asheim created"
        assert app.screen.query_one(PagedTable).row_count == 0
    db = Database(make_engine(mail_url))
    with db.session() as s:
        person = s.execute(select(Person).where(Person.username == "borre.asheim")).scalar_one()
        assert (person.email, person.phone) == ("borre.asheim@pob-kommune.no", "+4790000001")
        assert inc_svc.get_incident(s, "INC-000002").caller_id == person.id
        assert s.execute(select(Person).where(Person.email == "kari.n@pob-kommune.no")
                         ).scalars().all()[0].username == "kari.n"
    db.dispose()
