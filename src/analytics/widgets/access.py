"""Pages shown instead of a dashboard: the link does not grant access, or the account has no data yet."""

from __future__ import annotations

import html

import ipywidgets as widgets

from analytics.widgets.style import STYLESHEET

__all__ = ["busy_html", "no_data_page", "not_authorised_html", "not_authorised_page", "server_problem_html"]


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


def no_data_page(title: str, subtitle: str) -> widgets.HTML:
    """A friendly page for an account with no members, payments or activity yet (not an error)."""
    return widgets.HTML(
        STYLESHEET + '<div class="analytics-page"><div class="analytics-header">'
        f'<h1>{html.escape(title)}</h1><div class="subtitle">{html.escape(subtitle)}</div></div>'
        '<div class="analytics-state" data-state="no-data"><b>No data yet.</b><br>'
        "This account has no members, payments or activity in the store yet. Once its data is synced "
        "(<code>analytics sync</code>) or imported, this dashboard fills in.</div></div>"
    )


def busy_html(retry_seconds: int) -> str:
    """The page shown when the server runs as many dashboards as it may: wait and retry (it reloads itself)."""
    return (
        STYLESHEET + '<div class="analytics-page"><div class="analytics-notice busy" data-state="busy">'
        "<h2>Busy, retry in a moment</h2>"
        "<p>This dashboard server is showing as many dashboards as it can right now. "
        f"This page tries again by itself in {int(retry_seconds)} seconds.</p></div></div>"
    )


def server_problem_html(title: str, text: str) -> str:
    """A short page for a request the server cannot serve (unknown dashboard, server not set up)."""
    return (
        STYLESHEET + '<div class="analytics-page"><div class="analytics-notice" data-state="unavailable">'
        f"<h2>{html.escape(title)}</h2><p>{html.escape(text)}</p></div></div>"
    )
