"""KPI cards: a number, its change versus the previous period and an optional sparkline."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from analytics.formatting import format_value
from analytics.kpis import Kpi

__all__ = ["KpiCard", "KpiRow", "kpi_card_html"]


def kpi_card_html(kpi: Kpi, sparkline_svg: str = "", *, definition: str | None = None) -> str:
    """A KPI card's HTML; ``data-*`` attributes carry the raw values so tests can compare exactly.

    Without a previous value (no earlier period, or none comparable) the card says so instead of a change.
    """
    direction = kpi.direction
    good = "flat" if direction == "flat" else ("up" if (direction == kpi.better) else "down")
    arrow = {"up": "▲", "down": "▼", "flat": "■"}[direction]
    if not kpi.compare:
        change = ""
    elif kpi.previous is None:
        change = '<div class="change flat">no earlier period to compare</div>'
    else:
        previous = format_value(kpi.previous, kpi.unit, kpi.currency)
        change = (
            f'<div class="change {good}">{arrow} {html.escape(kpi.change_text)}'
            f' <span class="previous">vs {html.escape(previous)} previous period</span></div>'
        )
    return (
        f'<div class="analytics-kpi" data-kpi="{html.escape(kpi.name)}" data-state="ready"'
        f' data-value="{html.escape(str(kpi.value))}"'
        f' data-previous="{html.escape(str(kpi.previous))}" data-unit="{html.escape(kpi.unit)}">'
        f'<div class="label">{html.escape(kpi.label)}{_info(definition)}</div>'
        f'<div class="value">{html.escape(kpi.text)}</div>'
        f"{change}{sparkline_svg}</div>"
    )


def _info(definition: str | None) -> str:
    if not definition:
        return ""
    text = html.escape(definition, quote=True)
    return f' <span class="analytics-info" title="{text}" data-definition="{text}">i</span>'


class KpiCard(widgets.VBox):
    """A card showing one :class:`Kpi` (starts in a loading state); its ⓘ shows the definition on hover and, when
    the number can be drilled into, a button opens the rows behind it."""

    def __init__(self, name: str, label: str, *, definition: str | None = None, drillable: bool = False) -> None:
        self.name = name
        self.label = label
        self.definition = definition
        self.card = widgets.HTML()
        self.button = widgets.Button(
            description="See the rows behind it ›",
            tooltip=f"Show the rows behind {label}",
            layout=widgets.Layout(display="none" if not drillable else None, width="auto"),
        )
        self.button.add_class("analytics-kpi-drill")
        self.drillable = drillable
        self._callbacks: list[Callable[[KpiCard], None]] = []
        self.button.on_click(lambda _b: [callback(self) for callback in self._callbacks])
        super().__init__([self.card, self.button])
        self.add_class("analytics-kpi-card")
        self.loading()

    @property
    def value(self) -> str:
        """The card's HTML (what a test reads)."""
        return str(self.card.value)

    def on_drill(self, callback: Callable[[KpiCard], None]) -> None:
        self._callbacks.append(callback)

    def loading(self) -> None:
        self.button.disabled = True
        self.card.value = (
            f'<div class="analytics-kpi" data-kpi="{html.escape(self.name)}" data-state="loading">'
            f'<div class="label">{html.escape(self.label)}{_info(self.definition)}</div>'
            '<div class="value analytics-skeleton">…</div></div>'
        )

    def show(self, kpi: Kpi, sparkline_svg: str = "") -> None:
        self.card.value = kpi_card_html(kpi, sparkline_svg, definition=self.definition)
        self.button.disabled = False

    def unavailable(self, message: str) -> None:
        self.button.disabled = True
        self.card.value = (
            f'<div class="analytics-kpi" data-kpi="{html.escape(self.name)}" data-state="empty">'
            f'<div class="label">{html.escape(self.label)}{_info(self.definition)}</div><div class="value">–</div>'
            f'<div class="previous">{html.escape(message)}</div></div>'
        )


class KpiRow(widgets.HBox):
    """Cards side by side (wrapping on narrow screens)."""

    def __init__(self, cards: list[KpiCard]) -> None:
        super().__init__(cards, layout=widgets.Layout(flex_flow="row wrap"))
        self.cards = {card.name: card for card in cards}
