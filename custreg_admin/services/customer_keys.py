"""The stored search and sort keys of customers (:class:`~custreg_admin.models.CustomerKey`).

One home for how each key is made and how a search word meets them:

* **Identifiers.** The customer number, business ID and VAT number are kept as upper-case
  letters and digits only (``0112038-9`` -> ``01120389``, ``NO923609016MVA``). A typed word
  made of identifier characters matches them **by prefix** (:func:`id_match`), a typed
  business ID or VAT number in any spelling :func:`~.business_ids.search_variants` knows
  **by equality**. Both are range conditions on indexed columns (byte order on both
  databases), so a search of a million customers reads a few index pages.
* **Sorting.** The visiting address' city (:attr:`Customer.city <custreg_admin.models.Customer>`,
  the same expression the list shows) and the names of the account owner, industry and status,
  each indexed with the customer id as the unique last key: the Summary sorted by them walks an
  index instead of sorting a million rows.

**Kept in step** by the history choke point (:func:`custreg_admin.services.history.register`
puts :func:`after_flush` on the same sessions): every flush that creates or changes a customer,
an address, or renames a user, industry or status refreshes the keys of the customers it
touches, in the same transaction. Set-based writers call :func:`refresh` with the ids they
changed (the mass update calls :func:`set_sort_names` through
``history.record_mass_update``); a bulk load calls
:func:`rebuild_all`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, insert, or_, select, union, update
from sqlalchemy.orm import Session, attributes
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from ..models import Address, Customer, CustomerKey, CustomerStatus, Industry, User
from .business_ids import search_variants

#: What a stored identifier may contain besides letters and digits (left out of its key).
_SEPARATORS = ("-", " ", ".", "/")
#: A typed word that may be (the start of) an identifier: letters, digits and separators.
_ID_WORD = re.compile(r"[0-9A-Za-z][0-9A-Za-z .\-/]*")
#: Sorts after every letter and digit: ``[p, p + "~")`` holds exactly the keys starting with p.
_AFTER_KEYS = "~"


def key_of(text: str | None) -> str:
    """The key of a typed or stored identifier: its letters and digits, upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()


def _sql_key(column: Any) -> ColumnElement[Any]:
    """:func:`key_of` in SQL, for stored identifiers (normalised: letters, digits, separators)."""
    for separator in _SEPARATORS:
        column = func.replace(column, separator, "")
    return func.upper(column)


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    return and_(column >= prefix, column < prefix + _AFTER_KEYS)


# --------------------------------------------------------------------------- searching


def _id_keys(text: str) -> Select[Any] | None:
    """The customers whose number, business ID or VAT number starts with ``text`` (any
    separators), or whose business ID or VAT number is one of its other spellings; None if
    ``text`` cannot be (the start of) an identifier: it has no digit, or other characters."""
    text = (text or "").strip()
    if not _ID_WORD.fullmatch(text) or not any(c.isdigit() for c in text):
        return None
    key = key_of(text)
    conditions = [
        _prefix(CustomerKey.number, key),
        _prefix(CustomerKey.business_id, key),
        _prefix(CustomerKey.vat_number, key),
    ]
    variants = sorted({key_of(v) for v in search_variants(text)} - {"", key})
    if variants:
        conditions += [CustomerKey.business_id.in_(variants), CustomerKey.vat_number.in_(variants)]
    return select(CustomerKey.customer_id).where(or_(*conditions))


def id_match(text: str) -> ColumnElement[bool] | None:
    """Customers with the typed identifier (:func:`_id_keys`) as a condition; None if ``text``
    cannot be one."""
    keys = _id_keys(text)
    return None if keys is None else Customer.id.in_(keys)


def _name_match(word: str) -> ColumnElement[bool]:
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return Customer.name.ilike(pattern, escape="\\")


def search_condition(text: str) -> ColumnElement[bool] | None:
    """The Summary search; None for an empty one.

    Every typed word is in the name (anywhere, any case), or, if it has a digit, starts the
    customer number, business ID or VAT number (separators left out: ``0112038``, ``FI0112``)
    or is a business ID or VAT number in another spelling. Or the whole text is an identifier
    (``FI 0112038-9``, ``NO 923 609 016 MVA``).

    Shaped for indexes: a name condition alone, or ``id IN (names UNION keys)`` per word, never
    ``name ILIKE ... OR id IN (...)`` (an OR with a subquery makes PostgreSQL read every row).
    The name is found by trigram index on PostgreSQL (SQLite reads the names), the identifiers
    by the key columns' indexes on both.
    """
    text = (text or "").strip()
    if not text:
        return None
    words = text.split()
    conditions = []
    for word in words:
        keys = _id_keys(word)
        if keys is None:
            conditions.append(_name_match(word))
        else:
            names = select(Customer.id).where(_name_match(word))
            conditions.append(Customer.id.in_(union(names, keys)))
    whole = _id_keys(text) if len(words) > 1 else None
    if whole is None:
        return and_(*conditions)
    return Customer.id.in_(union(select(Customer.id).where(and_(*conditions)), whole))


# --------------------------------------------------------------------------- keeping them


def _rows(where: ColumnElement[bool] | None) -> Select[Any]:
    query = (
        select(
            Customer.id,
            cast(Customer.number, String),
            _sql_key(Customer.business_id),
            _sql_key(Customer.vat_number),
            Customer.city.expression,
            User.name,
            Industry.name,
            CustomerStatus.name,
        )
        .outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(Industry, Industry.id == Customer.industry_id)
        .outerjoin(CustomerStatus, CustomerStatus.id == Customer.status_id)
    )
    return query if where is None else query.where(where)


_COLUMNS = (
    "customer_id",
    "number",
    "business_id",
    "vat_number",
    "city",
    "owner",
    "industry",
    "status",
)


def refresh(session: Session, customer_ids: Iterable[int] | Select[Any]) -> None:
    """Make the keys of these customers (a list of ids, or a query of them) again from their
    rows, in the session's transaction."""
    if not isinstance(customer_ids, Select):
        customer_ids = sorted(set(customer_ids))
        if not customer_ids:
            return
    session.execute(delete(CustomerKey).where(CustomerKey.customer_id.in_(customer_ids)))
    session.execute(insert(CustomerKey).from_select(_COLUMNS, _rows(Customer.id.in_(customer_ids))))


def set_sort_names(
    session: Session,
    column: str,
    customer_id: ColumnElement[Any],
    value: ColumnElement[Any],
    *conditions: ColumnElement[bool],
) -> None:
    """One ``UPDATE ... FROM`` of the name kept for ``column`` (``owner_id``, ``industry_id`` or
    ``status_id``; other columns have no key): each key row of ``customer_id`` gets the name of
    the row ``value`` points at, where ``conditions`` hold. A mass update's change rows give both
    (the customer and the value it now has), so no customer row is read again."""
    names = {
        "owner_id": ("owner", User),
        "industry_id": ("industry", Industry),
        "status_id": ("status", CustomerStatus),
    }
    if column not in names:
        return
    key, model = names[column]
    name = select(model.name).where(model.id == value).scalar_subquery()
    session.execute(
        update(CustomerKey)
        .where(CustomerKey.customer_id == customer_id, *conditions)
        .values({key: name})
        .execution_options(synchronize_session=False)
    )


def rebuild_all(session: Session) -> int:
    """Every customer's keys from scratch (after a bulk load); returns how many."""
    session.execute(delete(CustomerKey))
    session.execute(insert(CustomerKey).from_select(_COLUMNS, _rows(None)))
    return session.scalar(select(func.count()).select_from(CustomerKey)) or 0


_RENAMED = {
    User: Customer.owner_id,
    Industry: Customer.industry_id,
    CustomerStatus: Customer.status_id,
}


def after_flush(session: Session, _flush_context: Any) -> None:
    """The choke point's hook: refresh the keys of every customer this flush touched."""
    ids: set[int] = set()
    renamed: list[ColumnElement[bool]] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Customer):
            if obj not in session.deleted and obj.id is not None:
                ids.add(obj.id)
        elif isinstance(obj, Address):
            history = attributes.get_history(obj, "customer_id")
            ids.update(i for i in (*history.added, *history.unchanged, *history.deleted) if i)
        elif (
            type(obj) in _RENAMED
            and obj in session.dirty
            and attributes.get_history(obj, "name").has_changes()
        ):
            renamed.append(_RENAMED[type(obj)] == obj.id)
    deleted = {obj.id for obj in session.deleted if isinstance(obj, Customer)}
    ids -= deleted
    if ids:
        refresh(session, ids)
    if renamed:
        refresh(session, select(Customer.id).where(or_(*renamed)))
