"""The committed notebooks are clean templates: one typed, documented parameters cell, no outputs, no secrets."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from papermill import inspect_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.ipynb"))
SECRET_WORDS = ("key", "secret", "token", "password", "database_url")


def test_the_expected_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "business_report",
        "churn_scoring",
        "churn_training",
        "page_data",
        "snapshot",
        "sync",
    ]
    assert [p.stem for p in DASHBOARDS] == ["churn", "content", "engagement", "overview", "revenue"]


@pytest.mark.parametrize("path", NOTEBOOKS + DASHBOARDS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_with_typed_documented_parameters(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = inspect_notebook(str(path))
    assert "account_id" in params
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    assert len(params) == len(lines), "every line of the parameters cell is one parameter papermill can read"
    for name, info in params.items():
        assert info["inferred_type_name"] in ("str", "int", "bool", "float"), f"{name} has no type"
        assert info["help"], f"{name} has no help comment"
        assert not any(word in name for word in SECRET_WORDS), f"{name} looks like a secret"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_check_the_link_before_anything_else(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    first = nb.cells[0].source
    assert "open_dashboard(os.environ)" in first
    # thin layout: no SQL, no loops over data in the notebook
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "select(" not in code and "for " not in code and "sqlalchemy" not in code
