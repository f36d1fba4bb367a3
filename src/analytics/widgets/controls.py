"""Dashboard controls: date range, grain, product and plan, emitting one :class:`Filters` value on change."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import ipywidgets as widgets

from analytics.kpis import Filters

__all__ = ["ALL", "Controls", "Filters", "PlanOption", "ProductOption", "range_problem"]

ALL = ""  # the "all products / all plans" choice


@dataclass(frozen=True)
class ProductOption:
    id: str
    title: str


@dataclass(frozen=True)
class PlanOption:
    id: str
    title: str
    product_id: str


def range_problem(start: date | None, end: date | None, today: date | None) -> str | None:
    """Why a chosen range cannot be shown, in words (``None`` when it can): a missing date, From after To, or an
    end after today (there is no data from the future)."""
    if start is None or end is None:
        return "Choose both a From and a To date."
    if start > end:
        return f"From ({start:%d %b %Y}) is after To ({end:%d %b %Y}): choose a From date on or before To."
    if today is not None and end > today:
        return f"To ({end:%d %b %Y}) is in the future: choose a date on or before today ({today:%d %b %Y})."
    return None


class Controls(widgets.VBox):
    """Date pickers, a day/week/month toggle and product/plan dropdowns (plans follow the chosen product).

    ``on_change(callback)`` registers a function called with the new :class:`Filters` once per user change
    (changing the product resets the plan without a second call). A range that cannot be shown (From after To,
    To in the future, see :func:`range_problem`) is refused with a message under the controls; the page keeps
    showing the last valid range until the dates are fixed.
    """

    def __init__(
        self,
        initial: Filters,
        products: Sequence[ProductOption] = (),
        plans: Sequence[PlanOption] = (),
        *,
        grains: Sequence[str] = ("day", "week", "month"),
        today: date | None = None,
    ) -> None:
        self._plans = list(plans)
        self.today = today
        self.problem = widgets.HTML()
        self._callbacks: list[Callable[[Filters], None]] = []
        self._muted = False
        narrow = {"description_width": "40px"}
        self.start = widgets.DatePicker(
            value=initial.start, description="From", style=narrow, layout=widgets.Layout(width="210px")
        )
        self.end = widgets.DatePicker(
            value=initial.end, description="To", style=narrow, layout=widgets.Layout(width="210px")
        )
        self.grain = widgets.ToggleButtons(
            options=[(g.capitalize(), g) for g in grains],
            value=initial.grain,
            style={"button_width": "64px"},
            tooltips=[f"one point per {g}" for g in grains],
        )
        self.product = widgets.Dropdown(
            options=[("All products", ALL)] + [(p.title, p.id) for p in products],
            value=initial.product_id or ALL,
            description="Product",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="280px"),
        )
        self.plan = widgets.Dropdown(
            description="Plan", style={"description_width": "40px"}, layout=widgets.Layout(width="260px")
        )
        self._set_plan_options(initial.product_id or ALL, initial.plan_id or ALL)
        line = widgets.HBox(
            [self.start, self.end, self.grain, self.product, self.plan],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        super().__init__([line, self.problem])
        self.add_class("analytics-controls")
        for control in (self.start, self.end, self.grain, self.plan):
            control.observe(self._changed, names="value")
        self.product.observe(self._product_changed, names="value")

    def _set_plan_options(self, product_id: str, value: str = ALL) -> None:
        options = [("All plans", ALL)] + [
            (p.title, p.id) for p in self._plans if product_id == ALL or p.product_id == product_id
        ]
        self._muted = True
        try:
            self.plan.options = options
            self.plan.value = value if value in {v for _, v in options} else ALL
        finally:
            self._muted = False

    def _product_changed(self, change: dict[str, object]) -> None:
        self._set_plan_options(str(change["new"]))
        self._changed(change)

    def _changed(self, _change: dict[str, object]) -> None:
        if self._muted:
            return
        problem = range_problem(self.start.value, self.end.value, self.today)
        if problem is not None:
            self.problem.value = f'<div class="analytics-problem" data-state="refused">{html.escape(problem)}</div>'
            return
        self.problem.value = ""
        filters = self.filters
        for callback in self._callbacks:
            callback(filters)

    @property
    def filters(self) -> Filters:
        """The current choice, as picked (check it with :func:`range_problem` first)."""
        start, end = self.start.value, self.end.value
        return Filters(
            start=start,
            end=end,
            grain=str(self.grain.value),
            product_id=self.product.value or None,
            plan_id=self.plan.value or None,
        )

    def on_change(self, callback: Callable[[Filters], None]) -> None:
        """Call ``callback(filters)`` after each change."""
        self._callbacks.append(callback)
