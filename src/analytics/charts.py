"""Altair chart builders: a DataFrame in, an :class:`altair.Chart` out, one look for dashboards and reports.

Every builder takes the frame a metric or snapshot function returns, plus the names of the columns to use
(defaults shown in each signature), and never queries anything itself. Money columns are expected in *major*
units for display (``from_minor`` happens in the data layer; nothing is stored as float). Rendering to SVG/PNG
goes through vl-convert (:func:`to_svg`, :func:`to_png`), so charts are drawn without a browser or a CDN: the
dashboards show the SVG, the PDF report embeds the PNG.
"""

from __future__ import annotations

import threading
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "PALETTE",
    "bar",
    "cohort_heatmap",
    "human",
    "kpi_trend",
    "lesson_dropoff",
    "lifecycle_bars",
    "line",
    "members_by_status",
    "movements_waterfall",
    "mrr_line",
    "score_histogram",
    "to_png",
    "to_svg",
    "warm_up",
    "weekday_hour_heatmap",
]

PALETTE = {
    "primary": "#3b6fb6",
    "increase": "#2e9d5b",
    "decrease": "#d1495b",
    "total": "#5b6c8f",
    "muted": "#9aa5b1",
}
WIDTH = 520
HEIGHT = 220
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MOVEMENT_ORDER = ["new", "expansion", "reactivation", "contraction", "churn", "fx"]
_NEGATIVE_MOVEMENTS = {"contraction", "churn", "churned"}
_STEP_LABELS = {"fx": "FX", "new": "New", "expansion": "Expansion", "reactivation": "Reactivation"}


_HUMAN = {
    "past_due": "Past due",
    "fx": "FX",
    "ltv": "LTV",
    "mrr": "MRR",
    "arr": "ARR",
    "arpa": "ARPA",
}


def human(value: object) -> str:
    """A stored code as people read it: ``past_due`` → ``Past due``, ``high`` → ``High``."""
    text = str(value)
    return _HUMAN.get(text, text.replace("_", " ").capitalize())


def _money_format(currency: str) -> str:
    return "$,.0f" if currency.lower() == "usd" else ",.0f"


def _money_title(label: str, currency: str) -> str:
    return f"{label} ({currency.upper()})"


def _style(chart: Any, title: str | alt.TitleParams, width: int, height: int) -> Any:
    return (
        chart.properties(title=title, width=width, height=height)
        .configure_view(strokeWidth=0)
        .configure_axis(labelFontSize=11, titleFontSize=11, gridColor="#eceff3")
        .configure_title(fontSize=14, anchor="start")
    )


def _time_axis(values: pd.Series) -> alt.Axis:
    """Month labels when every point is the first of a month (monthly buckets), day labels otherwise.

    Vega-Lite's default time labels switch format at month boundaries ("November" among "Nov 08" labels), which
    collide on a weekly axis; one short format with overlapping labels dropped reads cleanly.
    """
    days = pd.to_datetime(values)
    if len(days) and bool((days.dt.day == 1).all()) and days.nunique() > 1:
        return alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": max(1, days.nunique() // 8)})
    return alt.Axis(format="%b %d", labelOverlap=True)


def line(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str = "",
    y_title: str | None = None,
    y_format: str = ",.0f",
    color: str | None = None,
    complete: str | None = None,
    period_title: str = "Period starting",
    tooltip_format: str | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """A time series line with points (``x`` temporal, ``y`` quantitative; ``color`` splits into series); the
    tooltip gives the period (``period_title``) and the value with its unit (``y_title``), written with
    ``tooltip_format`` (default the axis' ``y_format``: exact cents in the tooltip, round numbers on the axis).

    ``complete`` names a boolean column that is False for periods still in progress (snapshots' ``complete``):
    those points are drawn hollow and their tooltip says "to date", so a half-finished week does not read as a drop.
    """
    value_title = y_title if y_title is not None else y
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x}:T", title=None, axis=_time_axis(frame[x])),
        "y": alt.Y(f"{y}:Q", title=value_title, axis=alt.Axis(format=y_format)),
        "tooltip": [
            alt.Tooltip(f"{x}:T", title=period_title, format="%d %b %Y"),
            alt.Tooltip(f"{y}:Q", title=value_title, format=tooltip_format or y_format),
        ],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None)
        encoding["tooltip"].insert(1, alt.Tooltip(f"{color}:N", title="Series"))
    if complete is None:
        mark = (
            alt.Chart(frame).mark_line(point=True)
            if color
            else alt.Chart(frame).mark_line(point=True, color=PALETTE["primary"])
        )
        return _style(mark.encode(**encoding), title, width, height)
    data, heading = _periods_to_date(frame, complete, title, "hollow point: period in progress, to date")
    stroke: dict[str, Any] = {} if color else {"color": PALETTE["primary"]}
    base = alt.Chart(data).encode(**encoding)
    points = base.mark_point(size=40, strokeWidth=1.5, opacity=1, **stroke).encode(
        fill=alt.condition(_TO_DATE, alt.value("white"), alt.value(PALETTE["primary"])),
        tooltip=[*encoding["tooltip"], _PERIOD_TOOLTIP],
    )
    return _style(alt.layer(base.mark_line(**stroke), points), heading, width, height)


_TO_DATE = alt.datum._period == "to date"
_PERIOD_TOOLTIP = alt.Tooltip("_period:N", title="period")


def _periods_to_date(
    frame: pd.DataFrame, complete: str, title: str, note: str
) -> tuple[pd.DataFrame, str | alt.TitleParams]:
    """``frame`` with a ``_period`` label ("complete" or "to date") from its ``complete`` column, and ``title`` with
    ``note`` as its subtitle when some period is in progress (a key to the marks only those periods have)."""
    done = frame[complete].astype(bool).to_numpy()
    data = frame.assign(_period=np.where(done, "complete", "to date"))
    if done.all() or not title:
        return data, title
    return data, alt.TitleParams(text=title, subtitle=note, subtitleColor="#6b7280")


def bar(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str = "",
    value_title: str | None = None,
    value_format: str = ",.0f",
    sort: list[str] | None = None,
    horizontal: bool = True,
    category_title: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Bars of ``value`` by ``category`` with the value written at the end of each bar.

    Categories are shown as people read them (``past_due`` → ``Past due``, see :func:`human`); the data keeps
    the stored codes, so a click selection on ``category`` gives the code.
    """
    cat = alt.Y if horizontal else alt.X
    val = alt.X if horizontal else alt.Y
    data = frame.assign(_label=frame[category].map(human))
    order = [human(v) for v in sort] if sort is not None else ("-x" if horizontal else None)
    title = value_title if value_title is not None else value
    cat_enc = cat("_label:N", title=None, sort=order)
    val_enc = val(f"{value}:Q", title=title)
    tooltip = [
        alt.Tooltip("_label:N", title=category_title),
        alt.Tooltip(f"{value}:Q", title=title, format=value_format),
    ]
    base = alt.Chart(data).encode(cat_enc, val_enc, tooltip=tooltip)
    bars = base.mark_bar(color=PALETTE["primary"])
    labels = base.mark_text(
        align="left" if horizontal else "center", dx=3 if horizontal else 0, dy=0 if horizontal else -6
    )
    labels = labels.encode(text=alt.Text(f"{value}:Q", format=value_format))
    return _style(alt.layer(bars, labels), title, width, height)


def kpi_trend(frame: pd.DataFrame, *, x: str = "period_start", y: str = "value", width: int = 160) -> alt.Chart:
    """A small sparkline of one KPI over recent periods (no axes), for KPI cards."""
    chart = (
        alt.Chart(frame)
        .mark_area(line={"color": PALETTE["primary"]}, color=PALETTE["primary"], opacity=0.15)
        .encode(x=alt.X(f"{x}:T", axis=None), y=alt.Y(f"{y}:Q", axis=None, scale=alt.Scale(zero=False)))
        .properties(width=width, height=36)
    )
    return chart.configure_view(strokeWidth=0)


def mrr_line(
    frame: pd.DataFrame,
    *,
    x: str = "date",
    y: str = "mrr",
    currency: str = "usd",
    title: str = "MRR",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """MRR over time (``y`` in major units of ``currency``)."""
    return line(
        frame,
        x=x,
        y=y,
        title=title,
        y_title=_money_title("MRR", currency),
        y_format=_money_format(currency),
        width=width,
        height=height,
    )


def waterfall_frame(start: float, movements: pd.DataFrame, *, movement: str, amount: str) -> pd.DataFrame:
    """The bars of a movements waterfall: start total, one bar per movement, end total.

    Contraction and churn are drawn downwards whatever their sign in the input (metric functions report
    them as positive amounts); the end total is ``start + Σ signed movements``.
    """
    rows = [{"step": "Start", "kind": "total", "low": 0.0, "high": float(start), "amount": float(start)}]
    level = float(start)
    order = {name: i for i, name in enumerate(MOVEMENT_ORDER)}
    ordered = movements.assign(_order=movements[movement].map(order).fillna(len(order))).sort_values("_order")
    for name, value in zip(ordered[movement], ordered[amount], strict=True):
        signed = -abs(float(value)) if name in _NEGATIVE_MOVEMENTS else float(value)
        rows.append(
            {
                "step": _STEP_LABELS.get(str(name), str(name).capitalize()),
                "kind": "increase" if signed >= 0 else "decrease",
                "low": min(level, level + signed),
                "high": max(level, level + signed),
                "amount": signed,
            }
        )
        level += signed
    rows.append({"step": "End", "kind": "total", "low": 0.0, "high": level, "amount": level})
    return pd.DataFrame(rows)


def movements_waterfall(
    frame: pd.DataFrame,
    *,
    start: float,
    movement: str = "movement",
    amount: str = "amount",
    currency: str = "usd",
    title: str = "MRR movements",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Waterfall from MRR at period start through new/expansion/reactivation/contraction/churn to the end."""
    bars = waterfall_frame(start, frame, movement=movement, amount=amount)
    fmt = _money_format(currency)
    chart = (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=list(bars["step"]), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("low:Q", title=_money_title("MRR", currency), axis=alt.Axis(format=fmt)),
            y2="high:Q",
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["total", "increase", "decrease"],
                    range=[PALETTE["total"], PALETTE["increase"], PALETTE["decrease"]],
                ),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("amount:Q", title=f"MRR ({currency.upper()})", format=fmt),
            ],
        )
    )
    labels = (
        alt.Chart(bars)
        .mark_text(dy=-6, fontSize=11, color="#1f2933")
        .encode(
            x=alt.X("step:N", sort=list(bars["step"])),
            y=alt.Y("high:Q"),
            text=alt.Text("amount:Q", format=_money_short(currency)),
        )
    )
    return _style(alt.layer(chart, labels), title, width, height)


def _money_short(currency: str) -> str:
    return "$,.3~s" if currency.lower() == "usd" else ",.3~s"


def members_by_status(
    frame: pd.DataFrame, *, status: str = "status", members: str = "members", title: str = "Members by status"
) -> alt.Chart:
    """Horizontal bars: how many members (or memberships) are in each status."""
    return bar(frame, category=status, value=members, title=title, value_title="Members")


def cohort_heatmap(
    frame: pd.DataFrame,
    *,
    cohort: str = "cohort",
    age: str = "period",
    value: str = "retention",
    title: str = "Retention by cohort",
    value_title: str = "Retention",
    value_format: str = ".0%",
    width: int = WIDTH,
    height: int = 260,
) -> alt.Chart:
    """Cohort × periods-since-start heat map with the value printed in each cell."""
    top = max(1.0, float(pd.to_numeric(frame[value], errors="coerce").max() or 0.0))
    base = alt.Chart(frame).encode(
        x=alt.X(f"{age}:O", title="Periods since start", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{cohort}:O", title="Cohort"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{value}:Q",
            title=value_title,
            scale=alt.Scale(scheme="blues", domain=[0, top]),
            legend=alt.Legend(format=value_format),
        ),
        tooltip=[
            alt.Tooltip(f"{cohort}:O", title="Cohort"),
            alt.Tooltip(f"{age}:O", title="Periods since start"),
            alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
        ],
    )
    # White text on the darker half of the scale, dark text on the lighter half (readable on every cell).
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=value_format),
        color=alt.condition(alt.datum[value] > 0.5 * top, alt.value("white"), alt.value("#1f2933")),
    )
    return _style(alt.layer(cells, text), title, width, height)


def score_histogram(
    scores: pd.Series | pd.DataFrame,
    *,
    score: str = "score",
    bin_width: int = 10,
    title: str = "Engagement score distribution",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Members per score band (0–100 in steps of ``bin_width``), from one score per member."""
    values = scores[score] if isinstance(scores, pd.DataFrame) else scores
    edges = list(range(0, 100 + bin_width, bin_width))
    bands = pd.cut(values.astype(float).clip(0, 100), bins=edges, right=False, include_lowest=True)
    counts = bands.value_counts(sort=False)
    frame = pd.DataFrame(
        {
            "band": [
                f"{int(iv.left)}–{int(iv.right) if iv.right >= 100 else int(iv.right) - 1}" for iv in counts.index
            ],
            "low": [int(iv.left) for iv in counts.index],
            "members": counts.to_numpy(),
        }
    )
    frame.loc[frame.index[-1], "members"] += int((values.astype(float) >= 100).sum())  # 100 belongs to the last band
    chart = (
        alt.Chart(frame)
        .mark_bar(color=PALETTE["primary"])
        .encode(
            x=alt.X("band:N", sort=list(frame["band"]), title="Score", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("members:Q", title="Members"),
            tooltip=[alt.Tooltip("band:N", title="Score"), alt.Tooltip("members:Q", title="Members")],
        )
    )
    return _style(chart, title, width, height)


def weekday_hour_heatmap(
    frame: pd.DataFrame,
    *,
    weekday: str = "weekday",
    hour: str = "hour",
    events: str = "events",
    title: str = "Activity by weekday and hour",
    width: int = WIDTH,
    height: int = 180,
) -> alt.Chart:
    """Events by weekday (0 = Monday, or names) × hour of day, in the account's time zone."""
    data = frame.copy()
    if pd.api.types.is_numeric_dtype(data[weekday]):
        data[weekday] = data[weekday].map(lambda d: WEEKDAYS[int(d) % 7])
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X(f"{hour}:O", title="Hour", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{weekday}:O", sort=WEEKDAYS, title=None),
            color=alt.Color(f"{events}:Q", title="Events", scale=alt.Scale(scheme="greens")),
            tooltip=[
                alt.Tooltip(f"{weekday}:O", title="Weekday"),
                alt.Tooltip(f"{hour}:O", title="Hour (account time)"),
                alt.Tooltip(f"{events}:Q", title="Events", format=",.0f"),
            ],
        )
    )
    return _style(chart, title, width, height)


def lesson_dropoff(
    frame: pd.DataFrame,
    *,
    lesson: str = "lesson",
    position: str = "position",
    value: str = "completions",
    title: str = "Lesson completions and drop-off",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Completions per lesson in course order; the lesson with the largest fall from the previous one is red."""
    data = frame.sort_values(position).reset_index(drop=True)
    fall = (data[value].shift(1) - data[value]).fillna(0)
    data["drop_off"] = False
    if len(data) > 1 and fall.max() > 0:
        data.loc[fall.idxmax(), "drop_off"] = True
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{lesson}:N", sort=list(data[lesson]), title=None, axis=alt.Axis(labelAngle=-30, labelLimit=120)),
            y=alt.Y(f"{value}:Q", title=value.replace("_", " ").capitalize()),
            color=alt.condition(alt.datum.drop_off, alt.value(PALETTE["decrease"]), alt.value(PALETTE["primary"])),
            tooltip=[
                alt.Tooltip(f"{position}:Q", title="Lesson #"),
                alt.Tooltip(f"{lesson}:N", title="Lesson"),
                alt.Tooltip(f"{value}:Q", title=value.replace("_", " ").capitalize(), format=",.0f"),
            ],
        )
    )
    return _style(chart, title, width, height)


def lifecycle_bars(
    frame: pd.DataFrame,
    *,
    x: str = "period_start",
    group: str = "state",
    count: str = "members",
    complete: str | None = None,
    title: str = "Member lifecycle",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Stacked bars per interval: new, returning, resurrecting above zero and dormant below (PostHog style).

    ``complete`` names a boolean column, False for periods still in progress: their bars are paler and the tooltip
    says "to date".
    """
    data = frame.copy()
    data["signed"] = data[count].where(data[group] != "dormant", -data[count])
    tooltip: list[Any] = [
        alt.Tooltip(f"{x}:T", title="Period starting", format="%d %b %Y"),
        alt.Tooltip(f"{group}:N", title="State"),
        alt.Tooltip(f"{count}:Q", title="Members"),
    ]
    extra: dict[str, Any] = {}
    heading: str | alt.TitleParams = title
    if complete is not None:
        data, heading = _periods_to_date(data, complete, title, "pale bars: period in progress, to date")
        tooltip.append(_PERIOD_TOOLTIP)
        extra["opacity"] = alt.condition(_TO_DATE, alt.value(0.45), alt.value(1.0))
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=_time_axis(data[x])),
            y=alt.Y("signed:Q", title="Members"),
            color=alt.Color(
                f"{group}:N",
                title=None,
                scale=alt.Scale(
                    domain=["new", "returning", "resurrecting", "dormant"],
                    range=[PALETTE["primary"], PALETTE["increase"], "#f2a541", PALETTE["decrease"]],
                ),
            ),
            tooltip=tooltip,
            **extra,
        )
    )
    return _style(chart, heading, width, height)


def warm_up() -> threading.Thread:
    """Start vl-convert's JavaScript runtime in a background thread and return the thread.

    The first drawing in a process pays ~0.5 s (more on a busy machine) to start the runtime; a dashboard
    kernel calls this first, so the start overlaps its queries (vl-convert releases the GIL while it works).
    """
    import vl_convert as vlc

    spec = {"data": {"values": [{"x": 0}]}, "mark": "point", "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    thread = threading.Thread(target=vlc.vegalite_to_svg, args=(spec,), name="vl-convert-warm-up", daemon=True)
    thread.start()
    return thread


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Draw a chart as an SVG document with vl-convert (no browser); the root element has class ``marks``."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_dict()))


def to_png(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> bytes:
    """Draw a chart as PNG bytes with vl-convert (used by the PDF report)."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_dict(), scale=scale))
