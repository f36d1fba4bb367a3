"""Dashboard controls: date range, grain, product and plan, emitting one :class:`Filters` value on change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from analytics.kpis import Filters

__all__ = ["ALL", "Controls", "Filters", "PlanOption", "ProductOption"]

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


class Controls(widgets.HBox):
    """Date pickers, a day/week/month toggle and product/plan dropdowns (plans follow the chosen product).

    ``on_change(callback)`` registers a function called with the new :class:`Filters` once per user change
    (changing the product resets the plan without a second call).
    """

    def __init__(
        self,
        initial: Filters,
        products: Sequence[ProductOption] = (),
        plans: Sequence[PlanOption] = (),
        *,
        grains: Sequence[str] = ("day", "week", "month"),
    ) -> None:
        self._plans = list(plans)
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
        super().__init__(
            [self.start, self.end, self.grain, self.product, self.plan],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
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
        if self._muted or self.start.value is None or self.end.value is None:
            return
        filters = self.filters
        for callback in self._callbacks:
            callback(filters)

    @property
    def filters(self) -> Filters:
        """The current choice (start and end swapped if the user picked them backwards)."""
        start, end = self.start.value, self.end.value
        if start > end:
            start, end = end, start
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
