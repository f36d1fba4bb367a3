"""Column types that keep the store's two promises on every engine: money is exact and time is UTC.

* Money is stored as integer **minor units** (cents) next to a lower-case ISO 4217 currency code; see
  :func:`analytics.store.money.to_minor` for the conversion. Never a float at rest.
* :class:`UTCDateTime` accepts only time-zone-aware datetimes and always returns aware UTC datetimes.
  PostgreSQL stores ``timestamptz``; DuckDB a ``TIMESTAMP`` holding UTC; SQLite an integer count of
  microseconds since the Unix epoch (exact, sortable and fast to bucket; see ``analytics.metrics.dialect``).
* :class:`ExactDecimal` (rates, percentages) is ``NUMERIC`` where the engine has an exact one and the decimal's
  text on SQLite, whose NUMERIC affinity would turn it into a float.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["EPOCH", "ExactDecimal", "JSONType", "UTCDateTime", "datetime_to_epoch_us", "epoch_us_to_datetime"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

JSONType: TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")


def datetime_to_epoch_us(value: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime."""
    return (value - EPOCH) // _MICROSECOND


def epoch_us_to_datetime(value: int) -> datetime:
    """Aware UTC datetime of a count of microseconds since the Unix epoch."""
    return EPOCH + timedelta(microseconds=int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """An instant in UTC; naive datetimes are refused because their zone is unknown."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        if dialect.name == "duckdb":
            return dialect.type_descriptor(sa.DateTime(timezone=False))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
            value = value.to_pydatetime()
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone; give it one (e.g. append 'Z' for UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return datetime_to_epoch_us(value)
        if dialect.name == "duckdb":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            return epoch_us_to_datetime(int(value))
        if isinstance(value, str):  # a hand-written SQLite row; be lenient on read
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal (FX rates, percentages): NUMERIC, or its text on SQLite."""

    impl = sa.Numeric(24, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(48))
        return dialect.type_descriptor(sa.Numeric(24, 10, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError(f"exact decimal expected, got float {value!r}; pass a Decimal or a string")
        value = Decimal(str(value))
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))
