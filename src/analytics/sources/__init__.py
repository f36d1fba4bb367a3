"""Sources: where data enters the store — file and DataFrame imports, Whop dashboard exports (and, later, the API).

Import rules and the columns of every table: ``docs/import-schema.md``.
"""

from analytics.sources.import_spec import ImportColumn, import_columns
from analytics.sources.imports import FileReport, ImportReport, import_files, import_frame
from analytics.sources.whop_export import import_whop_export, map_whop_export

__all__ = [
    "FileReport",
    "ImportColumn",
    "ImportReport",
    "import_columns",
    "import_files",
    "import_frame",
    "import_whop_export",
    "map_whop_export",
]
