"""Real mail servers for the protocol tests, started once per test worker: an SMTP server
(aiosmtpd) that keeps what it receives, and Dovecot (IMAP) with its own configuration."""

from __future__ import annotations

import base64
import contextlib
import email
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def take(self) -> list[EmailMessage]:
        with self.lock:
            out, self.received[:] = list(self.received), []
        return out


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server, _session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=policy.default)
        msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        msg["X-Test-TLS"] = "yes" if _session.ssl else "no"  # how it arrived
        msg["X-Test-Login"] = str(_session.auth_data or "")
        with self.server.lock:
            self.server.received.append(msg)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    server = SmtpServer(free_port())
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    controller.stop()


@dataclass
class TlsSmtp:
    server: SmtpServer
    ca_file: Path
    wrong_ca: Path


def _authenticate(_server, _session, _envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"desk"
          and auth_data.password == b"secret")
    return AuthResult(success=ok, auth_data="desk" if ok else None)


@pytest.fixture(scope="session")
def tls_smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSmtp]:
    """An SMTP server that requires STARTTLS (certificate from a private CA) and a login
    (`desk`/`secret`) before it takes mail."""
    import ssl

    from aiosmtpd.controller import Controller

    root = tmp_path_factory.mktemp("smtp-tls")
    try:
        cert, key = make_certificate(root, "pob-test-ca")
        wrong, _key = make_certificate(root, "other-ca")
    except FileNotFoundError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(free_port())
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port,
                            tls_context=context, require_starttls=True, auth_required=True,
                            auth_require_tls=True, authenticator=_authenticate)
    controller.start()
    yield TlsSmtp(server, cert, wrong)
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    smtp_server.take()
    yield smtp_server
    smtp_server.take()


# --- Dovecot -------------------------------------------------------------------------------

@dataclass
class Dovecot:
    port: int
    user: str
    password: str
    maildir: Path
    base: Path
    imaps_port: int = 0  # with TLS: implicit TLS here, STARTTLS (required) on `port`

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self.port}"

    @property
    def imaps_url(self) -> str:
        return f"imaps://127.0.0.1:{self.imaps_port}"


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
{ssl}
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
mail_fsync = never
first_valid_uid = {first_uid}
mail_location = maildir:{base}/mail/%u
default_login_user = {login_user}
default_internal_user = {login_user}
default_internal_group = {login_group}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = {imaps_ssl}
  }}
}}
service anvil {{
  chroot =
  # no auth penalty: after a refused login (tests do that on purpose) anvil would delay the
  # next logins from 127.0.0.1 by seconds
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                        if Path("/usr/sbin/dovecot").exists() else None)


SSL_OFF = "ssl = no\ndisable_plaintext_auth = no"
# TLS required: no login before STARTTLS on the imap port, implicit TLS on the imaps port.
SSL_ON = ("ssl = required\ndisable_plaintext_auth = yes\nssl_cert = <{cert}\n"
          "ssl_key = <{key}")


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own private CA): (cert, key)."""
    if not shutil.which("openssl"):
        raise FileNotFoundError("openssl is missing")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN=127.0.0.1/O={name}", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    for path in (cert, key):
        os.chmod(path, 0o644)
    return cert, key


@contextlib.contextmanager
def start_dovecot(tls: tuple[Path, Path] | None = None) -> Iterator[Dovecot]:
    """A Dovecot on a free loopback port with one user `desk` (password `secret`); raises
    RuntimeError when it cannot start. Also used by bench/mail.py. With `tls` (cert, key):
    STARTTLS required on `port` and implicit TLS on `imaps_port`."""
    binary = _dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd)")
    import grp
    import pwd

    # A short base_dir (unix socket paths are limited to ~107 bytes), one per worker, not
    # under pytest's 0700 tmp_path (dovecot's own processes must reach it).
    base = Path(tempfile.mkdtemp(prefix="pobdc", dir="/tmp"))
    os.chmod(base, 0o755)
    for sub in ("run", "state", "mail"):
        (base / sub).mkdir()
        os.chmod(base / sub, 0o777)
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:  # dovecot refuses uid 0 for mail: store it as the dovecot user
        uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
    # As root, Dovecot drops to its own users; as anyone else it must run as that user.
    login_user = "dovenull" if os.getuid() == 0 and _has_user("dovenull") else \
        pwd.getpwuid(os.getuid()).pw_name
    login_group = grp.getgrgid(pwd.getpwnam(login_user).pw_gid).gr_name
    port = free_port()
    imaps_port = free_port() if tls else 0
    # XOAUTH2: JWTs signed with OAUTH2_SECRET, validated locally by Dovecot (the key is
    # looked up as <azp>/<alg>/<kid>, here default/HS256/default).
    keys = base / "keys" / "default" / "HS256"
    keys.mkdir(parents=True)
    (keys / "default").write_text(base64.b64encode(OAUTH2_SECRET).decode(), encoding="utf-8")
    for path in (base / "keys", base / "keys" / "default", keys, keys / "default"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    (base / "oauth2.conf.ext").write_text(
        f"introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={base}/keys/\n"
        "username_attribute = sub\n", encoding="utf-8")
    (base / "users").write_text("desk:{PLAIN}secret::::::\n", encoding="utf-8")
    conf = base / "dovecot.conf"
    ssl = SSL_ON.format(cert=tls[0], key=tls[1]) if tls else SSL_OFF
    conf.write_text(DOVECOT_CONF.format(base=base, port=port, uid=uid, gid=gid, ssl=ssl,
                                        imaps_port=imaps_port,
                                        imaps_ssl="yes" if tls else "no",
                                        login_user=login_user, login_group=login_group,
                                        first_uid=min(uid, 100)),
                    encoding="utf-8")
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_for(proc, port, base)
        yield Dovecot(port, "desk", "secret", base / "mail" / "desk", base, imaps_port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)  # the master must be gone before the base_dir is reused
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(base, ignore_errors=True)


def _wait_for(proc: subprocess.Popen, port: int, base: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() \
                    else ""
                raise RuntimeError(f"dovecot did not start: {err} {log[-2000:]}") from None
            time.sleep(0.05)
    raise RuntimeError("dovecot did not answer on its port within 10 s")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    try:
        with start_dovecot() as server:
            yield server
    except FileNotFoundError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))


@dataclass
class TlsDovecot:
    server: Dovecot
    ca_file: Path  # the private CA that signed the server's certificate
    wrong_ca: Path  # another CA, which did not


@pytest.fixture(scope="session")
def tls_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsDovecot]:
    """A second Dovecot that speaks TLS only, with a certificate from a private CA."""
    root = tmp_path_factory.mktemp("dovecot-tls")
    os.chmod(root, 0o755)
    try:
        cert, key = make_certificate(root, "pob-test-ca")
        wrong, _key = make_certificate(root, "other-ca")
        with start_dovecot(tls=(cert, key)) as server:
            yield TlsDovecot(server, cert, wrong)
    except FileNotFoundError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))


OAUTH2_SECRET = b"pob-test-secret-key-0123456789ab"


def oauth2_token(user: str, *, secret: bytes = OAUTH2_SECRET, ttl: int = 3600) -> str:
    """A signed JWT (HS256) that the test Dovecot accepts for XOAUTH2 as `user`."""
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": user, "iat": now - 10, "nbf": now - 10,
                           "exp": now + ttl}).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
