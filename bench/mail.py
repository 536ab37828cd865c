"""Mail intake figures: messages ingested per second from files, and the time from a message
arriving at the IMAP server to its incident in the database with `mail watch` running.

A fresh migrated SQLite database with `people` callers; a generated mix of messages (new
inquiries from known callers, replies threaded by our Message-ID, out-of-office replies,
unknown senders, copies already seen), each ingested in its own transaction like
`pob mail ingest`. The IMAP figure needs Dovecot (skipped with a note when missing).

Goals: >= 50 messages/s (SQLite), <= 5 s from IMAP arrival to incident (median).

    python bench/mail.py                    # 1000 messages, 2000 people
    python bench/mail.py --scale small      # CI smoke run (200 messages; never fails)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCALES = {"small": (200, 200), "municipality": (1000, 2000)}
GOAL_RATE = 50.0
GOAL_LATENCY = 5.0


def build(url: str, people: int) -> None:
    from pob_tui.db import Database, make_engine, upgrade
    from pob_tui.models import Person, Service, Team

    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine)
    with db.session() as s:
        s.add(Team(code="SD", name="Servicedesk", kind="service_desk"))
        s.add_all([Service(code=f"S{i}", name=f"Tjeneste {i}", keywords=f"ord{i} skriver{i}",
                           search=f"s{i}") for i in range(40)])
        s.add_all([Person(username=f"p{i}", first_name="Per", last_name=f"Nr{i}",
                          email=f"p{i}@pob-kommune.no", search=f"per nr{i}")
                   for i in range(people)])
    db.dispose()


def messages(count: int, people: int) -> list[bytes]:
    """The mix: 55% new, 20% replies, 10% out-of-office, 10% unknown senders, 5% copies."""
    out: list[bytes] = []
    for i in range(count):
        sender = f"p{i % people}@pob-kommune.no"
        kind = i % 20
        head = f"From: Per <{sender}>\r\nTo: servicedesk@pob-kommune.no\r\n" \
               f"Date: Fri, 20 Nov 2026 10:00:00 +0100\r\n"
        if kind < 11 or i < 20:
            out.append((head + f"Subject: Skriver{i % 40} virker ikke {i}\r\n"
                        f"Message-ID: <new-{i}@pob-kommune.no>\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                        f"Hei,\r\nskriveren ord{i % 40} står på vent.\r\n\r\nMvh\r\nPer\r\n"
                        ).encode())
        elif kind < 15:
            number = f"INC-{1 + (i * 7) % 10:06d}"
            out.append((head + f"Subject: SV: [{number}] Skriver\r\n"
                        f"Message-ID: <reply-{i}@pob-kommune.no>\r\n"
                        f"In-Reply-To: <pob.{number}.00ff00ff00ff00ff@pob-kommune.no>\r\n"
                        "Content-Type: text/plain; charset=windows-1252\r\n\r\n"
                        "Fortsatt feil.\r\n\r\nFra: Servicedesk\r\nSendt: i går\r\n"
                        "Til: Per\r\n\r\n> gammel tekst\r\n").encode("cp1252"))
        elif kind < 17:
            out.append((head + f"Subject: Automatisk svar: Skriver {i}\r\n"
                        f"Message-ID: <ooo-{i}@pob-kommune.no>\r\n"
                        "Auto-Submitted: auto-replied\r\n\r\nJeg er borte.\r\n").encode())
        elif kind < 19:
            out.append((f"From: ukjent{i}@example.org\r\nSubject: Hjelp {i}\r\n"
                        f"Message-ID: <unknown-{i}@example.org>\r\n\r\nTekst.\r\n").encode())
        else:
            out.append(out[i // 2])  # a copy: duplicate
    return out


def ingest_rate(url: str, batch: list[bytes]) -> tuple[float, dict[str, int]]:
    from pob_tui.db import Database, make_engine
    from pob_tui.mail.config import MailConfig
    from pob_tui.services.mail import ingest_bytes

    cfg = MailConfig(from_address="servicedesk@pob-kommune.no",
                     message_id_domain="pob-kommune.no", rate_limit_per_hour=0)
    db = Database(make_engine(url))
    actions: dict[str, int] = {}
    t, cpu = time.perf_counter(), time.process_time()
    for raw in batch:
        with db.session() as s:
            action = ingest_bytes(s, raw, cfg).action
        actions[action] = actions.get(action, 0) + 1
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    db.dispose()
    return len(batch) / took, len(batch) / cpu, actions


def imap_latency(url: str, runs: int) -> list[float] | str:
    import dataclasses
    import imaplib

    from sqlalchemy import func, select

    from pob_tui.channels.mail.imap import run_watch
    from pob_tui.config import load_settings
    from pob_tui.db import Database, make_engine
    from pob_tui.models import Incident

    try:
        from tests.mail_fixtures import start_dovecot
    except ImportError as exc:
        return f"skipped: {exc}"
    try:
        server_cm = start_dovecot()
        server = server_cm.__enter__()
    except (FileNotFoundError, RuntimeError) as exc:
        return f"skipped: {exc}"
    db = Database(make_engine(url))
    settings = dataclasses.replace(
        load_settings(env={}), database_url=url, mail_imap_url=server.url,
        mail_imap_user=server.user, mail_imap_password=server.password,
        mail_from_address="servicedesk@pob-kommune.no")
    stop = threading.Event()
    ready = threading.Event()
    thread = threading.Thread(target=run_watch, args=(settings, stop),
                              kwargs={"database": db, "on_batch": lambda _r: ready.set()},
                              daemon=True)
    thread.start()
    times: list[float] = []
    try:
        ready.wait(20)

        def count() -> int:
            with db.session() as s:
                return int(s.execute(select(func.count()).select_from(Incident)).scalar_one())

        for i in range(runs):
            before = count()
            raw = (f"From: p1@pob-kommune.no\r\nSubject: IMAP {i}\r\n"
                   f"Message-ID: <imap-{i}-{time.time()}@x>\r\n\r\nTekst.\r\n").encode()
            conn = imaplib.IMAP4("127.0.0.1", server.port)
            conn.login(server.user, server.password)
            t = time.perf_counter()
            conn.append("INBOX", None, None, raw)
            conn.logout()
            while count() == before and time.perf_counter() - t < 30:
                time.sleep(0.02)
            times.append(time.perf_counter() - t)
    finally:
        stop.set()
        thread.join(15)
        db.dispose()
        server_cm.__exit__(None, None, None)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=tuple(SCALES), default="municipality")
    parser.add_argument("--runs", type=int, default=5, help="IMAP arrivals to time")
    parser.add_argument("--no-goal", action="store_true", help="explore: never fail")
    args = parser.parse_args()
    count, people = SCALES[args.scale]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'mail.sqlite3'}"
        build(url, people)
        rate, cpu_rate, actions = ingest_rate(url, messages(count, people))
        mix = ", ".join(f"{k} {v}" for k, v in sorted(actions.items()))
        flag = "" if rate >= GOAL_RATE else "  !"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"ingest from files (SQLite): {count} messages ({mix}); load average "
              f"{load:.1f} on {os.cpu_count()} CPUs")
        print(f"  {rate:8.1f} messages/s   goal >= {GOAL_RATE:.0f}   ratio "
              f"{rate / GOAL_RATE:.2f}{flag}")
        print(f"  {cpu_rate:8.1f} messages per CPU second (what an unloaded core does)")
        ok &= rate >= GOAL_RATE
        latency = imap_latency(url, args.runs)
        if isinstance(latency, str):
            print(f"IMAP arrival -> incident: {latency}")
        else:
            med = statistics.median(latency)
            flag = "" if med <= GOAL_LATENCY else "  !"
            print(f"IMAP arrival -> incident with mail watch (IDLE), {len(latency)} runs:")
            print(f"  median {med:6.2f} s   max {max(latency):6.2f} s   goal <= "
                  f"{GOAL_LATENCY:.0f} s   ratio {med / GOAL_LATENCY:.2f}{flag}")
            ok &= med <= GOAL_LATENCY
    # The small scale is the CI smoke run on a shared machine: it reports, it does not judge.
    return 0 if ok or args.no_goal or args.scale == "small" else 1


if __name__ == "__main__":
    sys.exit(main())
