"""The feature catalog page is generated from the catalog and kept up to date; every feature is documented; the
docs' console examples (```pycon blocks) run and print what the page says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

import pytest

from analytics.models.churn import FEATURE_NAMES, action_rules, feature_catalog, feature_docs_markdown
from analytics.models.churn.features import build_features

DOCS = Path(__file__).resolve().parents[2] / "docs"
PYCON = re.compile(r"^```pycon\n(.*?)^```$", re.DOTALL | re.MULTILINE)
EXAMPLE_PAGES = sorted(page.name for page in DOCS.glob("*.md") if PYCON.search(page.read_text(encoding="utf-8")))


def test_feature_page_is_up_to_date() -> None:
    page = DOCS / "churn-features.md"
    assert page.read_text(encoding="utf-8") == feature_docs_markdown(), (
        "docs/churn-features.md is stale: regenerate it with "
        "python -c 'from analytics.models.churn import feature_docs_markdown as m; "
        'open("docs/churn-features.md", "w").write(m())\''
    )


def test_catalog_describes_every_feature_once() -> None:
    catalog = feature_catalog()
    assert list(catalog["name"]) == list(FEATURE_NAMES)
    assert catalog["name"].is_unique
    assert (catalog[["description", "window", "unit", "source"]] != "").all().all()


def test_churn_page_names_every_action_rule() -> None:
    text = (DOCS / "churn.md").read_text(encoding="utf-8")
    for name in action_rules()["name"]:
        assert f"`{name}`" in text, f"docs/churn.md does not document the action rule {name}"


def test_built_features_are_the_catalog(tiny) -> None:  # type: ignore[no-untyped-def]
    from churn.builders import ACCOUNT
    from churn.conftest import D

    frame = build_features(tiny, ACCOUNT, [D])
    assert list(frame.columns) == ["as_of", "member_id", *FEATURE_NAMES]


def test_the_churn_page_has_console_examples() -> None:
    assert "churn.md" in EXAMPLE_PAGES


@pytest.mark.parametrize("page", EXAMPLE_PAGES)
def test_docs_examples_run(page: str) -> None:
    """Every ```pycon block of the page, in order and sharing names, gives the output the page shows."""
    text = (DOCS / page).read_text(encoding="utf-8")
    names: dict[str, Any] = {"__name__": f"docs.{page}"}
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    parser = doctest.DocTestParser()
    examples = 0
    for block in PYCON.finditer(text):
        line = text.count("\n", 0, block.start(1))
        test = parser.get_doctest(block.group(1), names, f"docs/{page}", str(DOCS / page), line)
        examples += len(test.examples)
        runner.run(test, out=report.append, clear_globs=False)
        names.update(test.globs)
    assert examples > 0
    assert runner.failures == 0, "".join(report)
