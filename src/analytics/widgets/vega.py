"""Interactive charts in the browser: altair's ``JupyterChart`` with Vega loaded from the dashboard server.

altair's :class:`~altair.JupyterChart` draws a chart with vega-embed in the browser (hover tooltips, the
"…" menu to save it as SVG/PNG) and sends selections back to the kernel (``chart.selections``), which is what a
click-to-drill-down needs. Stock, it imports vega-embed from a CDN; its offline mode instead inlines a 900 KB
bundle into every chart's widget state. :class:`InteractiveChart` keeps altair's front-end code and loads the
bundle once per browser from the dashboard server (``<base>/analytics/assets/vega-embed.js``, served by
:class:`analytics.dashboards.gate.AssetHandler` from :func:`vega_bundle`), falling back to altair's CDN imports
where that route does not exist (a chart shown in JupyterLab).
"""

from __future__ import annotations

import functools
from typing import Any

from altair.jupyter.jupyter_chart import JupyterChart, load_js_src

__all__ = ["ASSET_NAME", "ASSET_ROUTE", "EMBED_OPTIONS", "InteractiveChart", "vega_bundle"]

ASSET_NAME = "vega-embed.js"
ASSET_ROUTE = "analytics/assets/"
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}
"""SVG marks (crisp, and a test can find them); the menu offers SVG/PNG export but no link to an online editor."""

_LOADER = """
let vegaEmbed, lodashDebounce;
{
  let base = "/";
  try {
    base = JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/";
  } catch (error) {}
  let module;
  try {
    module = await import(new URL(base + "%(route)s%(name)s", window.location.origin).href);
  } catch (error) {
    %(fallback)s
  }
  vegaEmbed = module.vegaEmbed;
  lodashDebounce = module.lodashDebounce;
}
"""


def _front_end() -> str:
    """altair's ``JupyterChart`` module with its two CDN imports replaced by :data:`_LOADER`."""
    lines = load_js_src().split("\n")
    imports = [line for line in lines if line.startswith("import ")]
    while lines and (not lines[0].strip() or lines[0].startswith(("import", "//"))):
        lines.pop(0)
    urls = [line.split(" from ")[1].strip().strip(";").strip("\"'") for line in imports]
    fallback = (
        f"module = {{ vegaEmbed: (await import({urls[0]!r})).default,"
        f" lodashDebounce: (await import({urls[1]!r})).default }};"
    )
    return _LOADER % {"route": ASSET_ROUTE, "name": ASSET_NAME, "fallback": fallback} + "\n".join(lines)


class InteractiveChart(JupyterChart):
    """An altair chart drawn in the browser with hover tooltips, SVG/PNG export and selections sent back.

    Use it like :class:`altair.JupyterChart`: ``InteractiveChart(chart)``; ``chart.selections.<name>`` holds what
    the viewer clicked for each selection parameter of the chart.
    """

    _esm = _front_end()

    def __init__(self, chart: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("embed_options", EMBED_OPTIONS)
        super().__init__(chart, **kwargs)


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite (altair's version) and vega-embed as one ES module exporting ``vegaEmbed`` and
    ``lodashDebounce`` (vl-convert builds it, ~900 KB, in about a second the first time in a process)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return str(vlc.javascript_bundle("export { vegaEmbed, lodashDebounce };", vl_version=vl_version_for_vl_convert()))
