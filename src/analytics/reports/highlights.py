"""Short written highlights generated from the numbers of a report (no model, no templates to edit by hand).

Every sentence is derived from values the report also shows, formatted by the same formatter, so a highlight can
never disagree with the table next to it. Rules:

* each KPI with a previous value: ``"MRR rose 12.3 % to $4,520.00 (from $4,025.00)."``; rates move in points
  (``"Customer churn rate fell 0.9 pts to 3.1 %."``); growth from zero is ``"new"``, never infinite;
* the MRR movements: the largest gain and the largest loss, with their customer counts when known;
* the largest relative move among the KPIs is called out first when it is at least 10 %;
* any extra facts (failed payments, refunds, idle members, top content) are appended as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from analytics.formatting import change_ratio, format_value
from analytics.kpis import Kpi

__all__ = ["kpi_sentence", "movement_sentence", "write_highlights"]

_GAINS = ("new", "expansion", "reactivation")
_LOSSES = ("contraction", "churn")
_MOVEMENT_LABEL = {
    "new": "new customers",
    "expansion": "expansions",
    "reactivation": "reactivations",
    "contraction": "contractions",
    "churn": "churn",
}


def kpi_sentence(kpi: Kpi) -> str:
    """One sentence about a KPI and its change versus the previous period."""
    now = format_value(kpi.value, kpi.unit, kpi.currency)
    if kpi.value is None:
        return f"{kpi.label}: no data for this period."
    if kpi.previous is None:
        return f"{kpi.label} was {now}."
    before = format_value(kpi.previous, kpi.unit, kpi.currency)
    if kpi.unit in ("percent", "percent_points"):
        scale = 100.0 if kpi.unit == "percent" else 1.0
        points = (float(kpi.value) - float(kpi.previous)) * scale
        if abs(points) < 0.05:
            return f"{kpi.label} held at {now}."
        verb = "rose" if points > 0 else "fell"
        return f"{kpi.label} {verb} {abs(points):.1f} pts to {now} (from {before})."
    ratio = change_ratio(kpi.value, kpi.previous)
    if ratio is None:
        return f"{kpi.label} was {now} (new this period)." if float(kpi.value) else f"{kpi.label} was {now}."
    if abs(ratio) < 0.0005:
        return f"{kpi.label} held at {now}."
    verb = "rose" if ratio > 0 else "fell"
    return f"{kpi.label} {verb} {abs(ratio) * 100:.1f} % to {now} (from {before})."


def movement_sentence(
    amounts: Mapping[str, int | float],
    *,
    currency: str,
    counts: Mapping[str, int] | None = None,
    unit: str = "money_minor",
) -> str | None:
    """The biggest MRR gain and loss of the period, e.g. ``"New customers added $320.00 (8); churn took $35.00 (2)."``.

    ``amounts`` are positive amounts per movement (``new``, ``expansion``, ``reactivation``, ``contraction``,
    ``churn``), as metric functions report them; ``None`` when nothing moved.
    """
    counts = counts or {}
    gains = [(abs(float(amounts.get(k, 0) or 0)), k) for k in _GAINS]
    losses = [(abs(float(amounts.get(k, 0) or 0)), k) for k in _LOSSES]
    parts = []
    best_gain, best_loss = max(gains), max(losses)
    if best_gain[0] > 0:
        parts.append(f"{_MOVEMENT_LABEL[best_gain[1]].capitalize()} added {format_value(best_gain[0], unit, currency)}")
        if counts.get(best_gain[1]):
            parts[-1] += f" ({counts[best_gain[1]]})"
    if best_loss[0] > 0:
        parts.append(f"{_MOVEMENT_LABEL[best_loss[1]]} took {format_value(best_loss[0], unit, currency)}")
        if counts.get(best_loss[1]):
            parts[-1] += f" ({counts[best_loss[1]]})"
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def write_highlights(
    kpis: Sequence[Kpi],
    *,
    movements: Mapping[str, int | float] | None = None,
    movement_counts: Mapping[str, int] | None = None,
    currency: str = "usd",
    facts: Iterable[str] = (),
    limit: int = 8,
) -> list[str]:
    """The report's highlights, most notable first (see the module docstring for the rules)."""
    sentences = [(kpi, kpi_sentence(kpi)) for kpi in kpis]
    notable = [
        (abs(r), kpi.name)
        for kpi in kpis
        if kpi.unit not in ("percent", "percent_points") and (r := change_ratio(kpi.value, kpi.previous)) is not None
    ]
    lead = max(notable)[1] if notable and max(notable)[0] >= 0.10 else None
    ordered = sorted(sentences, key=lambda pair: pair[0].name != lead)  # stable: the lead first, then as given
    lines = [text for _, text in ordered]
    if movements:
        sentence = movement_sentence(movements, currency=currency, counts=movement_counts)
        if sentence:
            lines.insert(1 if lines else 0, sentence)
    lines.extend(facts)
    return lines[:limit]
