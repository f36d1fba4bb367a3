"""The ``reports`` step of ``analytics demo``: run the weekly reports and make the dashboard links.

Register it where the demo's steps are registered, after the snapshots::

    from analytics.reports.demo_step import reports_step
    register_step("reports", reports_step)

(Importing this module registers nothing, so importing it elsewhere never changes what ``analytics demo`` runs.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from analytics.demo.pipeline import DemoContext
from analytics.reports.demo import run_demo_reports

__all__ = ["reports_step"]


def reports_step(ctx: DemoContext) -> Mapping[str, Any]:
    """Run the weekly schedule (without sync) as of the day before the demo's end; return paths and links."""
    result = run_demo_reports(
        ctx.settings,
        engine=ctx.engine,
        as_of=ctx.end - timedelta(days=1),
        progress=ctx.progress,
        clock=ctx.clock,
    )
    return {
        "reports": {account: {k: str(p) for k, p in paths.items()} for account, paths in result.report_paths.items()},
        "links": result.links,
        "summary": result.summary(),
    }
