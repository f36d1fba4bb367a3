"""Where the project's notebooks, parameter files and dashboards are.

They live in the project checkout (``notebooks/``, ``params/``, ``dashboards/``), not inside the installed
package. The root is, in order: the ``root`` argument, ``$ANALYTICS_PROJECT_DIR``, the checkout this package
was imported from (an editable install), the nearest folder holding ``notebooks/`` and ``params/`` among the
current folder and its parents, or the current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProjectPaths", "project_paths"]


@dataclass(frozen=True)
class ProjectPaths:
    """The project's folders."""

    root: Path

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def dashboards(self) -> Path:
        return self.root / "dashboards"


def project_paths(root: Path | None = None) -> ProjectPaths:
    """The project folders (see the module docstring for how the root is found)."""
    if root is not None:
        return ProjectPaths(root.resolve())
    explicit = os.environ.get("ANALYTICS_PROJECT_DIR")
    if explicit:
        return ProjectPaths(Path(explicit).expanduser().resolve())
    checkout = Path(__file__).resolve().parents[3]  # src/analytics/reports/locations.py -> checkout root
    here = Path.cwd().resolve()
    for folder in (checkout, here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "params").is_dir():
            return ProjectPaths(folder)
    return ProjectPaths(here)
