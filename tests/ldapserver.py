"""A real OpenLDAP `slapd` with Active Directory's attribute names, for tests and the bench.

Debian's msuser.schema gives AD's names (sAMAccountName, objectGUID, userAccountControl,
department, ...). The server runs from its own slapd.conf and an mdb database in a temporary
directory on a loopback port. The sync account is an ordinary entry with AD-like limits
(`size.pr`: 100 entries a page, and 100 a search without paging), because the root DN ignores
limits and would hide a sync that forgot to page.
"""

from __future__ import annotations

import base64
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

SUFFIX = "dc=kommune,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret"
SYNC_DN = f"cn=pob-sync,ou=Service,{SUFFIX}"
SYNC_PW = "sync-secret"
PAGE_LIMIT = 100
SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "msuser")
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

DEPARTMENTS = ("Oppvekst", "Helse og omsorg", "NAV Bærum", "Teknisk drift", "Kultur og idrett",
               "Økonomi", "Plan og bygg", "Skole Øvre Åsen")
OFFICES = ("Rådhuset", "Sandvika skole", "Bekkestua sykehjem", "Fornebu barnehage")
GIVEN = ("Kari", "Ola", "Ingrid", "Lars", "Åse", "Ørjan", "Siri", "Håkon", "Maja", "Jonas",
         "Nora", "Emil", "Sofie", "Mohammed", "Aisha", "Trond")
SURNAMES = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
            "Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Bakken", "Strøm")
ODD = (("Æsa Øydis", "Brænnå-Ålvik"), ("Seán", "O'Brien"), ("Mary-Kate", "D'Souza"),
       ("Bjørnstjerne Martinius Aleksander Kristoffer",
        "Bjørnson-Haugland-Sæther-Østensen-Vestre-Tveit-Kvåle"))


@dataclass(frozen=True)
class FakePerson:
    guid: bytes
    sam: str
    given: str
    sn: str
    mail: str | None
    phone: str | None
    mobile: str | None
    title: str | None
    department: str | None
    office: str | None
    disabled: bool = False

    @property
    def cn(self) -> str:
        return f"{self.given} {self.sn} {self.sam}"

    def moved(self, department: str) -> FakePerson:
        return replace(self, department=department)


def make_people(n: int, seed: int, *, prefix: str = "u") -> list[FakePerson]:
    """`n` AD-like people from a seed: every 23rd disabled, every 37th with an odd name
    (æøå, apostrophes, very long), some with only a mobile number or no mail."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 37 == 5:
            given, sn = ODD[(i // 37) % len(ODD)]
        else:
            given, sn = rng.choice(GIVEN), rng.choice(SURNAMES)
        sam = f"{prefix}{i:05d}"
        phone = f"+47 67 50 {rng.randrange(10, 99)} {rng.randrange(10, 99)}" if i % 5 else None
        out.append(FakePerson(
            guid=rng.getrandbits(128).to_bytes(16, "little"), sam=sam, given=given, sn=sn,
            mail=None if i % 41 == 7 else f"{sam}@kommune.example",
            phone=phone, mobile=f"+47 9{rng.randrange(1000000, 9999999)}",
            title=rng.choice(("Rådgiver", "Lærer", "Sykepleier", "Konsulent", None)),
            department=DEPARTMENTS[i % len(DEPARTMENTS)], office=rng.choice(OFFICES),
            disabled=i % 23 == 11,
        ))
    return out


def _line(attr: str, value: str | bytes) -> str:
    if isinstance(value, bytes):
        return f"{attr}:: {base64.b64encode(value).decode()}"
    safe = value.isascii() and value == value.strip() and not value.startswith((":", "<")) \
        and "\n" not in value
    if safe:
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def person_dn(p: FakePerson, ou: str) -> str:
    return f"cn={p.cn},ou={ou},{SUFFIX}"


def person_ldif(p: FakePerson, ou: str) -> str:
    attrs: list[tuple[str, str | bytes]] = [
        ("dn", person_dn(p, ou)),
        ("objectClass", "top"), ("objectClass", "person"),
        ("objectClass", "organizationalPerson"), ("objectClass", "user"),
        # msuser.schema lacks AD's securityPrincipal class (sAMAccountName) and a few others
        ("objectClass", "extensibleObject"),
        ("cn", p.cn), ("sn", p.sn), ("givenName", p.given), ("sAMAccountName", p.sam),
        ("objectGUID", p.guid), ("instanceType", "4"),
        ("objectCategory", f"CN=Person,CN=Schema,CN=Configuration,{SUFFIX}"),
        ("nTSecurityDescriptor", b"\x01\x00\x04\x80"),
        ("userAccountControl", str(514 if p.disabled else 512)),
    ]
    for name, value in (("mail", p.mail), ("telephoneNumber", p.phone), ("mobile", p.mobile),
                        ("title", p.title), ("department", p.department),
                        ("physicalDeliveryOfficeName", p.office)):
        if value:
            attrs.append((name, value))
    return "\n".join(_line(a, v) for a, v in attrs) + "\n"


def ou_ldif(ou: str) -> str:
    return _line("dn", f"ou={ou},{SUFFIX}") + "\nobjectClass: organizationalUnit\n" + \
        _line("ou", ou) + "\n"


def base_ldif() -> str:
    return (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: kommune\n"
            f"o: Kommune\n\n{ou_ldif('Service')}\n"
            f"dn: {SYNC_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
            f"cn: pob-sync\nuserPassword: {SYNC_PW}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slapd_available() -> str | None:
    """None when slapd and the schemas are installed, else why not."""
    if not os.path.exists(SLAPD):
        return "slapd is not installed (apt-get install slapd ldap-utils)"
    if not os.path.exists("/etc/ldap/schema/msuser.schema"):
        return "/etc/ldap/schema/msuser.schema is missing (Debian's slapd package)"
    return None


class Slapd:
    """One slapd process; `people` trees are loaded offline with slapadd before it starts."""

    def __init__(self, root: Path, *, page_limit: int = PAGE_LIMIT,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.root = root
        self.tls = tls
        """(certificate, key) in PEM: StartTLS on ldap:// and a second ldaps:// port."""
        self.tls_port = free_port() if tls else None
        self.page_limit = page_limit
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def conf(self) -> Path:
        db = self.root / "db"
        db.mkdir(parents=True, exist_ok=True)
        includes = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
        n = self.page_limit
        limits = f"size.soft={n} size.hard={n} size.pr={n} size.prtotal=unlimited"
        tls = (f"TLSCertificateFile {self.tls[0]}\nTLSCertificateKeyFile {self.tls[1]}\n"
               if self.tls else "")
        text = f"""{includes}
{tls}pidfile {self.root}/slapd.pid
argsfile {self.root}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit 500
database mdb
maxsize 1073741824
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {db}
dbnosync
limits dn.exact="{SYNC_DN}" {limits}
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""
        path = self.root / "slapd.conf"
        path.write_text(text, encoding="utf-8")
        return path

    def load(self, trees: Iterable[tuple[str, list[FakePerson]]]) -> None:
        """Offline bulk load (slapadd is far faster than adding over the wire)."""
        parts = [base_ldif()]
        for ou, people in trees:
            parts.append(ou_ldif(ou))
            parts.extend(person_ldif(p, ou) for p in people)
        ldif = self.root / "load.ldif"
        ldif.write_text("\n".join(parts), encoding="utf-8")
        proc = subprocess.run([SLAPADD, "-q", "-f", str(self.conf()), "-l", str(ldif)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"slapadd failed: {proc.stderr[-2000:]}")

    def start(self) -> None:
        conf = self.conf()
        urls = f"{self.url}/" + (f" ldaps://127.0.0.1:{self.tls_port}/" if self.tls else "")
        self.proc = subprocess.Popen([SLAPD, "-f", str(conf), "-h", urls, "-d", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"slapd exited: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # --- changes over the wire, as the root DN (tests that change the directory use a tree
    # of their own, so the shared trees stay as loaded)
    def _admin(self):
        import ldap3

        conn = ldap3.Connection(ldap3.Server(self.url, get_info=ldap3.NONE), ROOT_DN, ROOT_PW,
                                raise_exceptions=True)
        conn.bind()
        return conn

    def add_tree(self, ou: str, people: list[FakePerson]) -> None:
        import ldap3

        conn = self._admin()
        try:
            conn.add(f"ou={ou},{SUFFIX}", ["organizationalUnit"], {"ou": ou})
            for p in people:
                self._add(conn, p, ou)
        finally:
            conn.unbind()
        del ldap3

    def _add(self, conn, p: FakePerson, ou: str) -> None:
        attrs: dict[str, object] = {
            "cn": p.cn, "sn": p.sn, "givenName": p.given, "sAMAccountName": p.sam,
            "objectGUID": p.guid, "instanceType": "4",
            "objectCategory": f"CN=Person,CN=Schema,CN=Configuration,{SUFFIX}",
            "nTSecurityDescriptor": b"\x01\x00\x04\x80",
            "userAccountControl": str(514 if p.disabled else 512)}
        for name, value in (("mail", p.mail), ("telephoneNumber", p.phone),
                            ("mobile", p.mobile), ("title", p.title),
                            ("department", p.department),
                            ("physicalDeliveryOfficeName", p.office)):
            if value:
                attrs[name] = value
        conn.add(person_dn(p, ou), ["top", "person", "organizationalPerson", "user",
                                          "extensibleObject"], attrs)

    def add_person(self, p: FakePerson, ou: str) -> None:
        conn = self._admin()
        try:
            self._add(conn, p, ou)
        finally:
            conn.unbind()

    def replace(self, p: FakePerson, ou: str, **values: str) -> None:
        import ldap3

        conn = self._admin()
        try:
            conn.modify(person_dn(p, ou), {k: [(ldap3.MODIFY_REPLACE, [v])]
                                           for k, v in values.items()})
        finally:
            conn.unbind()

    def delete(self, p: FakePerson, ou: str) -> None:
        conn = self._admin()
        try:
            conn.delete(person_dn(p, ou))
        finally:
            conn.unbind()
