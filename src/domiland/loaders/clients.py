"""Clients loader: IMP-12 matching by external id and phone, decided per record, looked up and written per batch.

:func:`match_client` is the rule itself — a pure function of the record's
external id and phone and of the clients they find — shared by the XML import
and the API import. :class:`ClientsLoader` wraps it for a batch:

1. Read, in a handful of queries for the whole batch, every client that one
   of the batch's external ids or (normalised) phones finds, with all their
   external ids and account links.
2. Decide record by record, in file order, against that in-memory picture,
   updating it as it goes — so a record sees what the records before it did:
   two records reaching the same client, a client created by one record and
   found by phone by a later one, a phone freed by an earlier change. The
   outcome is the same as importing the records one at a time.
3. Write what changed: new clients, changed clients, new external ids, new
   account links (executemany; nothing is written for an unchanged record).

The rules (IMP-12), in the order they are tried:

=====================  =========================================  ==========================================
rule                   when                                       then
=====================  =========================================  ==========================================
``same_client``        the external id finds client A and A has   update A
                       this phone (other clients sharing the
                       phone do not matter: the id is exact)
``ext_id_new_phone``   the external id finds A, A has another     update A, including the phone
                       phone, and no other client has this one
``phone_taken``        the external id finds A, but this phone    skip with a warning naming A and the
                       belongs to another client B (or several)   other client(s) by id and external ids
``phone_only``         the external id is unknown, the phone      add the external id to B (a client may
                       finds exactly one client B                 hold several) and update B
``phone_ambiguous``    the external id is unknown, several        skip with a warning naming them
                       clients have the phone
``new``                neither finds anybody                      create a client with that external id
=====================  =========================================  ==========================================

Before matching, a phone that cannot be read as a Russian number is a
warning and the record is skipped (the schema only checks its characters).
"Update" means: LastName is replaced; FirstName, MiddleName and Email are
replaced when given and kept when omitted or empty; the listed accounts are
linked (links are only added, never removed); an unknown account is a warning
and the client is still imported without that link.

``written`` counts clients, as stored: each client created, or changed in a
field, an external id or an account link, counts once per batch however many
records reached it; a batch whose end state equals what is stored writes
nothing and counts nothing (IMP-8).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domiland.loaders.base import BatchResult, NumberedRecord, RecordWarning
from domiland.loaders.bulk import BulkConnection
from domiland.loaders.phones import normalize_phone

CREATE, UPDATE, SKIP = "create", "update", "skip"


class KnownClient(Protocol):
    id: int
    phone: str
    ext_ids: Sequence[str]


@dataclass(frozen=True)
class Match:
    """What to do with one record."""

    rule: str
    action: str
    """``create``, ``update`` or ``skip``."""
    client_id: int | None = None
    """The client to update."""
    add_ext_id: bool = False
    """Attach the record's external id to that client."""
    set_phone: bool = False
    """The client's phone changes to the record's."""
    warning: str | None = None
    """Why the record is skipped."""


def describe(client: KnownClient) -> str:
    return f"id {client.id} (внешние id: {', '.join(client.ext_ids) or '—'})"


def match_client(ext_id: str, phone: str, by_ext_id: KnownClient | None,
                 by_phone: Sequence[KnownClient]) -> Match:
    """Decide IMP-12 for a record with ``ext_id`` and normalised ``phone``.

    ``by_ext_id`` is the client holding that external id, if any; ``by_phone``
    are all clients of the organization with that phone.
    """
    if by_ext_id is not None:
        if by_ext_id.phone == phone:
            return Match("same_client", UPDATE, by_ext_id.id)
        others = [c for c in by_phone if c.id != by_ext_id.id]
        if not others:
            return Match("ext_id_new_phone", UPDATE, by_ext_id.id, set_phone=True)
        whom = "другому клиенту " if len(others) == 1 else "другим клиентам: "
        return Match("phone_taken", SKIP, warning=(
            f"клиент {ext_id} пропущен: по внешнему id это клиент {describe(by_ext_id)} с телефоном "
            f"{by_ext_id.phone}, а телефон {phone} принадлежит {whom}{', '.join(map(describe, others))}"))
    if len(by_phone) == 1:
        return Match("phone_only", UPDATE, by_phone[0].id, add_ext_id=True)
    if by_phone:
        return Match("phone_ambiguous", SKIP, warning=(
            f"клиент {ext_id} пропущен: внешний id не найден, а телефон {phone} есть у нескольких клиентов "
            f"({', '.join(map(describe, by_phone))}) — непонятно, кого обновить"))
    return Match("new", CREATE)


_FIELDS = ("last_name", "first_name", "middle_name", "phone", "email")


@dataclass(eq=False)
class _Client:
    id: int
    last_name: str
    first_name: str | None
    middle_name: str | None
    phone: str
    email: str | None
    ext_ids: list[str] = field(default_factory=list)
    accounts: set[int] = field(default_factory=set)
    stored: tuple | None = None
    """The field values in the database (``None``: not inserted yet)."""

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in _FIELDS)


class _Picture:
    """The batch's clients as the records see them while they are decided in file order."""

    def __init__(self) -> None:
        self.clients: dict[int, _Client] = {}
        self.by_ext_id: dict[str, int] = {}
        self.by_phone: dict[str, set[int]] = {}

    def add(self, client: _Client) -> None:
        self.clients[client.id] = client
        self.by_phone.setdefault(client.phone, set()).add(client.id)
        for ext_id in client.ext_ids:
            self.by_ext_id[ext_id] = client.id

    def find(self, ext_id: str, phone: str) -> tuple[_Client | None, list[_Client]]:
        a = self.by_ext_id.get(ext_id)
        return (self.clients[a] if a is not None else None,
                [self.clients[i] for i in sorted(self.by_phone.get(phone, ()))])

    def change_phone(self, client: _Client, phone: str) -> None:
        self.by_phone[client.phone].discard(client.id)
        client.phone = phone
        self.by_phone.setdefault(phone, set()).add(client.id)


class ClientsLoader:
    """Clients of one organization, matched by IMP-12 (see the module docstring)."""

    table = "clients"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        records = [(no, line, f, normalize_phone(f["Phone"])) for no, line, f in batch]
        picture = self._read_picture({f["ExtId"] for _, _, f, _ in records},
                                     {phone for *_, phone in records if phone})
        accounts = self.bulk.fetch_ids("accounts", self.organization_id, "number",
                                       list({n for _, _, f, _ in records for n in f.get("AccountNumber", ())}))
        new_ids = self._new_ids(len({f["ExtId"] for _, _, f, _ in records} - picture.by_ext_id.keys()))
        now = self.bulk.now()
        created: set[int] = set()  # SQLite: clients of this batch already inserted
        new_ext_ids: list[tuple[int, str]] = []
        new_links: list[tuple[int, int]] = []

        for no, line, f, phone in records:
            ext_id = f["ExtId"]
            if phone is None:
                result.skipped += 1
                result.warnings.append(RecordWarning(no, line, (
                    f"клиент {ext_id} пропущен: телефон «{f['Phone']}» не распознан как российский номер "
                    "(ожидается 10 цифр после +7 или 8, например +7 912 345-67-89)")))
                continue
            match = match_client(ext_id, phone, *picture.find(ext_id, phone))
            if match.action == SKIP:
                result.skipped += 1
                result.warnings.append(RecordWarning(no, line, match.warning or match.rule))
                continue
            if match.action == CREATE:
                client = _Client(next(new_ids), f["LastName"], f.get("FirstName"), f.get("MiddleName"), phone,
                                 f.get("Email"), ext_ids=[ext_id])
                if client.id is None:  # SQLite: insert now to learn the id
                    client.id = self._insert_one(client, now)
                    client.stored = client.values()
                    created.add(client.id)
                picture.add(client)
                new_ext_ids.append((client.id, ext_id))
            else:
                client = picture.clients[match.client_id]
                client.last_name = f["LastName"]
                client.first_name = f.get("FirstName", client.first_name)
                client.middle_name = f.get("MiddleName", client.middle_name)
                client.email = f.get("Email", client.email)
                if client.phone != phone:
                    picture.change_phone(client, phone)
                if match.add_ext_id:
                    client.ext_ids.append(ext_id)
                    picture.by_ext_id[ext_id] = client.id
                    new_ext_ids.append((client.id, ext_id))
            for number in f.get("AccountNumber", ()):
                account_id = accounts.get(number)
                if account_id is None:
                    result.warnings.append(RecordWarning(no, line, (
                        f"клиент {ext_id}: лицевой счёт {number} не найден, клиент загружен без привязки к нему")))
                elif account_id not in client.accounts:
                    client.accounts.add(account_id)
                    new_links.append((client.id, account_id))

        result.written = self._write(picture, created, new_ext_ids, new_links, now)
        return result

    def finish(self) -> BatchResult:
        return BatchResult()

    # -- reading -------------------------------------------------------------------------------------------------

    def _read_picture(self, ext_ids: set[str], phones: set[str]) -> _Picture:
        org, p, bulk = self.organization_id, self.bulk.param, self.bulk
        owners = dict(bulk.select_in(f"SELECT ext_id, client_id FROM client_external_ids "
                                      f"WHERE organization_id = {p} AND ext_id", (org,), list(ext_ids)))
        columns = "id, last_name, first_name, middle_name, phone, email"
        rows = bulk.select_in(f"SELECT {columns} FROM clients WHERE organization_id = {p} AND phone",
                         (org,), list(phones))
        seen = {row[0] for row in rows}
        rows += bulk.select_in(f"SELECT {columns} FROM clients WHERE organization_id = {p} AND id",
                          (org,), list(set(owners.values()) - seen))
        clients = {row[0]: _Client(*row, stored=tuple(row[1:])) for row in rows}
        ids = list(clients)
        # By client id alone (the ids are the organization's): with "organization_id = … AND" PostgreSQL may scan
        # the (organization_id, ext_id) index and test every row against the whole id array (seconds per batch).
        for client_id, ext_id in sorted(bulk.select_in("SELECT client_id, ext_id FROM client_external_ids "
                                                        "WHERE client_id", (), ids)):
            clients[client_id].ext_ids.append(ext_id)
        links = bulk.select_in("SELECT client_id, account_id FROM client_accounts WHERE client_id", (), ids)
        for client_id, account_id in links:
            clients[client_id].accounts.add(account_id)
        picture = _Picture()
        for client in clients.values():
            picture.add(client)
        return picture

    # -- writing -------------------------------------------------------------------------------------------------

    def _new_ids(self, at_most: int) -> Iterator[int | None]:
        """Ids for the clients a batch may create: reserved in one query on PostgreSQL; SQLite learns them on insert."""
        if self.bulk.dialect == "sqlite" or not at_most:
            while True:
                yield None
        cur = self.bulk.dbapi.cursor()
        try:
            cur.execute("SELECT nextval(pg_get_serial_sequence('clients', 'id')) FROM generate_series(1, %s)",
                        (at_most,))
            ids = [row[0] for row in cur.fetchall()]
        finally:
            cur.close()
        yield from ids

    def _insert_one(self, client: _Client, now: Any) -> int:
        cur = self.bulk.dbapi.cursor()
        try:
            cur.execute("INSERT INTO clients (organization_id, last_name, first_name, middle_name, phone, email, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (self.organization_id, *client.values(), now, now))
            return cur.lastrowid
        finally:
            cur.close()

    def _write(self, picture: _Picture, created: set[int], new_ext_ids: list[tuple[int, str]],
               new_links: list[tuple[int, int]], now: Any) -> int:
        """Write what the batch changed; return how many clients were created or changed."""
        p, org = self.bulk.param, self.organization_id
        inserts = [(c.id, org, *c.values(), now, now) for c in picture.clients.values() if c.stored is None]
        updates = [(*c.values(), now, c.id) for c in picture.clients.values()
                   if c.stored is not None and c.values() != c.stored]
        changed = {row[0] for row in inserts} | {row[-1] for row in updates} | created
        changed.update(client_id for client_id, _ in new_ext_ids)
        changed.update(client_id for client_id, _ in new_links)
        cur = self.bulk.dbapi.cursor()
        try:
            if inserts:
                cur.executemany(f"INSERT INTO clients (id, organization_id, {', '.join(_FIELDS)}, created_at, "
                                f"updated_at) VALUES ({', '.join([p] * 9)})", inserts)
            if updates:
                cur.executemany(f"UPDATE clients SET {', '.join(f'{name} = {p}' for name in _FIELDS)}, "
                                f"updated_at = {p} WHERE id = {p}", updates)
            if new_ext_ids:
                cur.executemany(f"INSERT INTO client_external_ids (organization_id, client_id, ext_id) "
                                f"VALUES ({p}, {p}, {p}) ON CONFLICT (organization_id, ext_id) DO NOTHING",
                                [(org, client_id, ext_id) for client_id, ext_id in new_ext_ids])
            if new_links:
                cur.executemany(f"INSERT INTO client_accounts (client_id, account_id) VALUES ({p}, {p}) "
                                "ON CONFLICT (client_id, account_id) DO NOTHING", new_links)
        finally:
            cur.close()
        return len(changed)
