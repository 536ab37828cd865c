"""Org units: the rules about the tree that every way of changing it shares.

`check_no_cycle` is the one check that a new parent does not put a unit below itself; the
CSV import (several units at once, `orgtree.find_cycle` over the file's wanted parents) and
unit editing both refuse a loop naming the units, because a loop silently drops the units in
it from every rolled-up cost total.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput
from pob_tui.models import OrgUnit
from pob_tui.orgtree import cycle_text


def check_no_cycle(session: Session, unit_id: int, new_parent_id: int | None) -> None:
    """InvalidInput naming the units when `new_parent_id` is `unit_id` itself or below it.

    Walks up from the new parent one query per level (the tree is a few levels deep);
    a loop already in the data is reported too rather than followed forever."""
    if new_parent_id is None:
        return
    chain: list[int] = [unit_id]
    seen = {unit_id}
    current: int | None = new_parent_id
    while current is not None:
        chain.append(current)
        if current in seen:
            break
        seen.add(current)
        current = session.execute(
            select(col(OrgUnit.parent_id)).where(col(OrgUnit.id) == current)).scalar()
    else:
        return
    codes: dict[int | None, str] = {
        u: c for u, c in session.execute(select(col(OrgUnit.id), col(OrgUnit.code))
                                         .where(col(OrgUnit.id).in_(set(chain))))}
    names = [codes.get(u, str(u)) for u in chain]
    if chain[-1] == unit_id:
        raise InvalidInput(
            f"org unit {names[0]} cannot be placed under {names[1]}: that makes a cycle "
            f"{cycle_text(names)}")
    loop = names[names.index(names[-1]):]
    raise InvalidInput(f"the org units above {names[1]} already form a cycle "
                       f"{cycle_text(loop)}; fix those parents first")
