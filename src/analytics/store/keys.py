"""Integer member keys: a 60-bit number derived from a member id.

Whop member ids (``mber_`` and 11 more characters) are 16-character strings. DuckDB keeps strings of up to 12
bytes inline and compares longer ones by a 4-byte prefix, which is ``mber`` for every member, so grouping or
joining the event log by member id follows a pointer for every row. ``members.member_key`` and
``activity_events.member_key`` hold an integer derived from the id instead, and DuckDB's metric queries group and
join by it (:func:`analytics.metrics.dialect.integer_member_keys`). SQLite and PostgreSQL keep using the ids
(their indexes are on them).

Definition::

    member_key(id) = the first 15 hex digits of md5(id as UTF-8), as an integer (0 ≤ key < 2**60)

The key is a pure function of the id, so every writer can compute it without reading the store: Core inserts get
it from the column default (:func:`key_default`), imports and bulk loads from :func:`member_keys`; the migration
that introduced it (0003) back-fills existing rows with the same formula in each engine's SQL. Two different ids
of one account sharing a key would merge those members in DuckDB's figures; the chance is about n² / 2**61 for n
members (one in 2.3 million for a million members), and ``members`` has a unique index on
``(account_id, member_key)``, so the store refuses such a member rather than counting two people as one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DERIVED_KEY", "KEY_HEX_DIGITS", "key_default", "member_key", "member_keys"]

#: ``Column.info`` key: the column holds :func:`member_key` of the named column of the same row.
DERIVED_KEY = "member_key_of"

#: Hex digits of the md5 digest the key keeps (15 × 4 = 60 bits: a non-negative BIGINT on every engine).
KEY_HEX_DIGITS = 15


def member_key(member_id: str) -> int:
    """The member key of one id: ``int(md5(member_id)[:15], 16)``.

    Raises
    ------
    TypeError
        ``member_id`` is not a string (a missing id has no key).
    """
    if not isinstance(member_id, str):
        raise TypeError(f"a member key is derived from a member id string, got {member_id!r}")
    return int(hashlib.md5(member_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:KEY_HEX_DIGITS], 16)


def member_keys(member_ids: Iterable[str] | pd.Series) -> np.ndarray:
    """:func:`member_key` of every id, as an ``int64`` array (imports and bulk loads).

    Each distinct id is hashed once (an event log repeats its members' ids many times).

    Raises
    ------
    TypeError
        An id is missing (a row without a member id has no key).
    """
    codes, uniques = pd.factorize(
        pd.Series(member_ids, dtype=object) if not isinstance(member_ids, pd.Series) else member_ids
    )
    if (codes < 0).any():
        raise TypeError("a member key is derived from a member id; some rows have no member id")
    keys = np.fromiter((member_key(u) for u in uniques), dtype="int64", count=len(uniques))
    return keys[codes]


def key_default(source: str) -> Callable[[Any], int]:
    """A SQLAlchemy column default: the key of the row's ``source`` column, for every Core insert.

    SQLAlchemy calls it once per inserted row with the statement's parameters for that row.
    """

    def default(context: Any) -> int:
        params = context.get_current_parameters()
        if params.get(source) is None:
            raise ValueError(f"a row without {source} has no member_key; give the row its {source}")
        return member_key(params[source])

    return default
