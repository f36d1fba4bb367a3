"""The demo creator business: a deterministic, realistic Whop creator generated into the store.

``generate(seed, size, end=…)`` streams every table; ``load_demo(engine, …)`` writes it through the import
path; ``analytics.demo.pipeline.run_demo`` builds a demo workspace end to end (``analytics demo``).
"""

from analytics.demo.generator import TABLE_ORDER, DemoBusiness, generate
from analytics.demo.sizes import SIZES, DemoSize

__all__ = ["SIZES", "TABLE_ORDER", "DemoBusiness", "DemoSize", "generate"]
