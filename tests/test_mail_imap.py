"""IMAP intake against a real Dovecot on loopback (SQLite only; the core runs on both
backends in test_mail_ingest.py): fetch, move or flag, duplicates on re-fetch, held
messages set aside, login failures exit 3, and `run_watch` picking up new mail by IDLE."""

from __future__ import annotations

import dataclasses
import imaplib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pob_tui.channels.mail.imap import fetch_once, run_watch
from pob_tui.config import load_settings
from pob_tui.db import Database, make_engine
from pob_tui.models import Incident
from tests.mail_fixtures import (  # noqa: F401
    Dovecot,
    TlsDovecot,
    dovecot,
    oauth2_token,
    tls_dovecot,
)

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
def mailbox(dovecot: Dovecot) -> Iterator[Dovecot]:  # noqa: F811
    """An empty INBOX and no other folders."""
    yield _clear(dovecot)
    _clear(dovecot)


def _imap(server: Dovecot) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(server.user, server.password)
    return conn


def _clear(server: Dovecot) -> Dovecot:
    conn = _imap(server)
    _typ, folders = conn.list()
    names = [line.decode().rsplit(' ', 1)[-1].strip('"') for line in folders or [] if line]
    for name in sorted(names, key=len, reverse=True):
        if name != "INBOX":
            conn.delete(f'"{name}"')
    _typ, data = conn.select("INBOX")
    if data and data[0] and int(data[0]) > 0:
        conn.store("1:*", "+FLAGS", "\\Deleted")
        conn.expunge()
    conn.logout()
    return server


def append(server: Dovecot, raw: bytes, folder: str = "INBOX") -> None:
    conn = _imap(server)
    conn.append(folder, None, None, raw)
    conn.logout()


def count(server: Dovecot, folder: str, criteria: str = "ALL") -> int:
    conn = _imap(server)
    conn.select(folder)
    _typ, data = conn.search(None, criteria)
    conn.logout()
    return len(data[0].split()) if data and data[0] else 0


def settings_for(sworld, server: Dovecot, **kw):
    return dataclasses.replace(
        load_settings(env={}), database_url=str(sworld.db.engine.url),
        mail_imap_url=server.url, mail_imap_user=server.user,
        mail_imap_password=server.password, mail_from_address="servicedesk@pob-kommune.no",
        mail_message_id_domain="pob-kommune.no", **kw)


def test_fetch_moves_taken_mail_and_holds_the_broken(sworld, mailbox) -> None:
    settings = settings_for(sworld, mailbox, mail_processed_folder="pob/done",
                            mail_held_folder="pob/held")
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    append(mailbox, (CORPUS / "dsn_bounce_postfix.eml").read_bytes())
    append(mailbox, (CORPUS / "no_sender_garbage.eml").read_bytes())
    results = fetch_once(settings, sworld.db)
    assert sorted(r.result.action for r in results) == ["held", "ignored", "new"]
    assert all(r.file.startswith("imap:INBOX/") for r in results)
    assert count(mailbox, "INBOX") == 0
    assert count(mailbox, "pob/done") == 2 and count(mailbox, "pob/held") == 1
    # The same message arriving again (a copy, a resend) is a duplicate.
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    [again] = fetch_once(settings, sworld.db)
    assert (again.result.action, again.result.ticket) == ("duplicate", "INC-000001")


def test_fetch_without_folders_flags_seen_and_refetch_finds_nothing(sworld, mailbox) -> None:
    settings = settings_for(sworld, mailbox)
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    assert [r.result.action for r in fetch_once(settings, sworld.db)] == ["new"]
    assert count(mailbox, "INBOX", "UNSEEN") == 0 and count(mailbox, "INBOX") == 1
    assert fetch_once(settings, sworld.db) == []


def test_wrong_password_is_exit_3(sworld, mailbox, tmp_path, capsys) -> None:
    from pob_tui.cli import main

    cfg = tmp_path / "pob.toml"
    cfg.write_text(f'[mail]\nimap_url = "{mailbox.url}"\nimap_user = "desk"\n'
                   'imap_password = "wrong"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "--db", str(sworld.db.engine.url), "mail",
                 "fetch"]) == 3
    assert "refused the login" in capsys.readouterr().err


def test_password_from_the_environment_and_cli_fetch_json(sworld, mailbox, tmp_path, capsys,
                                                          monkeypatch) -> None:
    import json

    from pob_tui.cli import main

    monkeypatch.setenv("POB_MAIL_IMAP_PASSWORD", mailbox.password)
    cfg = tmp_path / "pob.toml"
    cfg.write_text(f'[mail]\nimap_url = "{mailbox.url}"\nimap_user = "desk"\n',
                   encoding="utf-8")
    append(mailbox, (CORPUS / "iso8859_1_new.eml").read_bytes())
    assert main(["--config", str(cfg), "--db", str(sworld.db.engine.url), "mail", "fetch",
                 "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["action"] == "new" and row["from_name"] == "Børre Åsheim"


def test_watch_takes_new_mail_within_seconds(sworld, mailbox) -> None:
    settings = settings_for(sworld, mailbox)
    stop = threading.Event()
    batches: list[list] = []
    thread = threading.Thread(target=run_watch, args=(settings, stop),
                              kwargs={"database": sworld.db, "on_batch": batches.append},
                              daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not batches and time.monotonic() < deadline:
            time.sleep(0.05)  # the first (empty) batch: watch is connected and idling
        sent_at = time.monotonic()
        append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
        while time.monotonic() < sent_at + 10:
            with sworld.db.session() as s:
                if s.execute(select(func.count()).select_from(Incident)).scalar_one():
                    break
            time.sleep(0.05)
        took = time.monotonic() - sent_at
        assert took < 5, f"mail reached the queue after {took:.1f} s"
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def test_xoauth2_with_a_token_from_a_command(sworld, mailbox, tmp_path) -> None:
    """Microsoft 365's way in: XOAUTH2 with a token printed by a command (Dovecot validates
    the JWT locally)."""
    token = tmp_path / "token"
    token.write_text(oauth2_token("desk") + "\n", encoding="utf-8")
    settings = dataclasses.replace(settings_for(sworld, mailbox), mail_imap_password="",
                                   mail_imap_oauth2_token_command=f"cat {token}")
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    assert [r.result.action for r in fetch_once(settings, sworld.db)] == ["new"]
    token.write_text(oauth2_token("desk", secret=b"not-the-key"), encoding="utf-8")
    from pob_tui.channels.mail.out import MailServerError

    with pytest.raises(MailServerError, match="refused the login"):
        fetch_once(settings, sworld.db)


def test_imaps_and_starttls_check_the_certificate_with_ca_file(sworld, tls_dovecot, tmp_path,  # noqa: F811
                                                               capsys) -> None:
    """TLS for real: a Dovecot with a certificate from a private CA. `imaps://` and `imap://`
    (STARTTLS) both log in over TLS (Dovecot's log says so) with that CA as `ca_file`; with
    another CA, or none (the system's), the certificate is refused: exit 3, one line."""
    import ssl

    from pob_tui.cli import main

    server, ca = tls_dovecot.server, tls_dovecot.ca_file
    context = ssl.create_default_context(cafile=str(ca))
    log = server.base / "dovecot.log"

    def last_login() -> str:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [line for line in log.read_text(encoding="utf-8").splitlines()
                     if "Info: Login: user=<desk>," in line]
            if lines and lines[-1] not in seen:
                seen.add(lines[-1])
                return lines[-1]
            time.sleep(0.05)
        raise AssertionError("no new login in Dovecot's log")

    seen: set[str] = set()
    for url, name in ((server.imaps_url, "new_request_utf8.eml"),
                      (server.url, "iso8859_1_new.eml")):
        with imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=context) as tls:
            tls.login(server.user, server.password)
            tls.append("INBOX", None, None, (CORPUS / name).read_bytes())
        last_login()
        settings = settings_for(sworld, server, mail_ca_file=str(ca))
        settings = dataclasses.replace(settings, mail_imap_url=url)
        [got] = fetch_once(settings, sworld.db)
        assert got.result.action == "new", url
        login = last_login()
        assert ", TLS, session=" in login, login
    for url in (server.imaps_url, server.url):
        for ca_line in (f'ca_file = "{tls_dovecot.wrong_ca}"\n', ""):
            cfg = tmp_path / "pob.toml"
            cfg.write_text(f'[mail]\nimap_url = "{url}"\nimap_user = "desk"\n'
                           f'imap_password = "secret"\n{ca_line}', encoding="utf-8")
            assert main(["--config", str(cfg), "--db", str(sworld.db.engine.url), "mail",
                         "fetch"]) == 3, (url, ca_line)
            err = capsys.readouterr().err
            assert "certificate verify failed" in err, err
            assert len(err.strip().splitlines()) == 1, err


def test_pob_serve_takes_mail_with_mail_watch(sworld, mailbox, tmp_path) -> None:
    """`[serve] mail_watch = true`: the running `pob serve` fetches the mailbox itself (as
    the system actor, with the service's credentials), no cron needed."""
    import os
    import subprocess
    import sys

    from tests.test_serve import stop_server

    config = tmp_path / "config.toml"
    config.write_text(
        f'[serve]\nhost_key = "{tmp_path / "host_key"}"\nmail_watch = true\n'
        f'[mail]\nimap_url = "{mailbox.url}"\nimap_user = "{mailbox.user}"\n'
        f'imap_password = "{mailbox.password}"\nfrom_address = "servicedesk@pob-kommune.no"\n'
        'message_id_domain = "pob-kommune.no"\n', encoding="utf-8")
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("POB_")}
    env.update(POB_CONFIG=str(config), POB_DATABASE_URL=str(sworld.db.engine.url))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pob_tui", "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        taken = 0
        while time.monotonic() < deadline and not taken:
            time.sleep(0.2)
            with sworld.db.session() as s:
                taken = s.execute(select(func.count()).select_from(Incident).where(
                    Incident.channel == "email")).scalar_one()
        assert taken == 1, "pob serve never fetched the mail"
    finally:
        _code, out = stop_server(proc)
    assert "mail fetch" not in out or "ended with" not in out, out


def test_password_from_a_command(sworld, mailbox) -> None:
    """`imap_password_command`: the password a command prints (a secret store), not one kept
    in the file; a command that fails is a one-line configuration error."""
    import shlex

    from pob_tui.errors import PobError

    settings = dataclasses.replace(
        settings_for(sworld, mailbox), mail_imap_password="",
        mail_imap_password_command=f"printf %s {shlex.quote(mailbox.password)}")
    append(mailbox, (CORPUS / "new_request_utf8.eml").read_bytes())
    assert [r.result.action for r in fetch_once(settings, sworld.db)] == ["new"]
    broken = dataclasses.replace(settings, mail_imap_password_command="false")
    with pytest.raises(PobError):
        fetch_once(broken, sworld.db)
