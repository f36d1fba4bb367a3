"""How big a demo business is: members, activity intensity and the batch size that bounds memory."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.errors import ConfigError

__all__ = ["SIZES", "DemoSize", "get_size"]


@dataclass(frozen=True)
class DemoSize:
    """One demo size.

    Attributes
    ----------
    name:
        ``tiny`` (tests), ``small`` (the default demo), ``medium`` or ``large``.
    members:
        Member rows across all accounts (buyers and free leads).
    event_rate:
        Scale of each member's daily activity (logins, messages, views); calibrated so that ``medium`` gives
        about 1M and ``large`` about 20M activity events.
    batch_members:
        Members simulated per batch; every table is yielded batch by batch, so memory stays bounded by the
        batch, not by the size.
    """

    name: str
    members: int
    event_rate: float
    batch_members: int


SIZES: dict[str, DemoSize] = {
    "tiny": DemoSize("tiny", 160, 0.8, 5_000),
    "small": DemoSize("small", 1_000, 0.8, 5_000),
    "medium": DemoSize("medium", 10_000, 0.8, 5_000),
    "large": DemoSize("large", 200_000, 0.8, 5_000),
}


def get_size(name: str) -> DemoSize:
    """The :class:`DemoSize` called ``name``.

    Raises
    ------
    ConfigError
        ``name`` is not one of :data:`SIZES`.
    """
    try:
        return SIZES[name]
    except KeyError:
        raise ConfigError(f"unknown demo size {name!r}; choose one of {', '.join(SIZES)}") from None
