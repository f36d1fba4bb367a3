"""Sources: where data enters the store (file and DataFrame imports, Whop dashboard exports, the Whop API)."""

from analytics.sources.import_spec import ImportColumn, import_columns
from analytics.sources.imports import FileReport, ImportReport, import_files, import_frame

__all__ = ["FileReport", "ImportColumn", "ImportReport", "import_columns", "import_files", "import_frame"]
