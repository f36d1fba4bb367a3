"""docs/import-schema.md is generated from the schema and cannot go stale."""

from __future__ import annotations

from pathlib import Path

from analytics.sources.import_docs import render_import_schema
from analytics.sources.import_spec import IMPORTABLE_TABLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-schema.md"


def test_committed_import_schema_is_the_rendered_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render_import_schema(), (
        "docs/import-schema.md is out of date: run "
        "`PYTHONPATH=src python -m analytics.sources.import_docs docs/import-schema.md` and commit it"
    )


def test_the_page_covers_every_table_and_the_whop_exports() -> None:
    text = render_import_schema()
    for table in IMPORTABLE_TABLES:
        assert f"\n### {table}\n" in text
    assert "| `total_minor` | money | **required** |" in text
    assert "| `status` | enum | **required** | `authorized`, `draft`, `open`, `paid`," in text
    assert '| `id` | yes | "Membership ID", "ID", "Membership" |' in text
    assert "| refunded | `paid` | `refunded` |" in text
