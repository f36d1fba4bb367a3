"""The page shown instead of a dashboard when its link does not grant access."""

from __future__ import annotations

import html

import ipywidgets as widgets

from analytics.widgets.style import STYLESHEET

__all__ = ["not_authorised_html", "not_authorised_page"]


def not_authorised_page(reason: str) -> widgets.HTML:
    """A clear "not authorised" page that shows the reason and no data at all."""
    return widgets.HTML(not_authorised_html(reason))


def not_authorised_html(reason: str) -> str:
    """The HTML of :func:`not_authorised_page` (the server's refusal notebook shows it without our imports)."""
    return (
        STYLESHEET + '<div class="analytics-page"><div class="analytics-notice" data-state="not-authorised">'
        "<h2>Not authorised</h2>"
        f"<p>{html.escape(reason)}</p>"
        "<p>Dashboard links are personal to one account and expire. Ask the account owner to create a new one with "
        "<code>analytics dashboard-link --account biz_…</code>.</p></div></div>"
    )
