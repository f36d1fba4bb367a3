"""The one exception tree of the workbook.

Every error the library raises on purpose derives from :class:`AnalyticsError`, and every message names
the file, row, field, cell or setting at fault and says what to do next::

    AnalyticsError
    ├── ConfigError              a setting is missing or malformed (names the variable or config key)
    ├── StoreError               the database cannot be reached, migrated or written
    │   ├── MigrationError       the database is at a revision this version cannot handle
    │   └── StoreNotFoundError   there is no store where the settings point (names the paths looked at)
    ├── DataValidationError      input rows that do not fit the schema (names file, row and column)
    │   └── ImportFileError      a whole file cannot be read (empty, not UTF-8, unknown format, missing column)
    ├── SyncError                a sync against the Whop API failed after its retries (carries request/response)
    │   └── ApiError             the API answered with an error status
    ├── SignatureError           a webhook signature is missing, forged or stale
    ├── MetricError              a metric was asked for with arguments it cannot answer (unknown name, bad period)
    ├── ModelError               a churn/fraud model cannot be trained, loaded or promoted
    ├── ReportError              a notebook run or report export failed (names the notebook and cell)
    └── AuthorizationError       a dashboard token is missing, forged, expired or for another account

Statistical problems that do not stop the work are warnings: :class:`StatisticalWarning`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnalyticsError",
    "ApiError",
    "AuthorizationError",
    "ConfigError",
    "DataValidationError",
    "ImportFileError",
    "MetricError",
    "MigrationError",
    "ModelError",
    "ReportError",
    "SignatureError",
    "StatisticalWarning",
    "StoreError",
    "StoreNotFoundError",
    "SyncError",
]


class AnalyticsError(Exception):
    """Base class of every error the workbook raises on purpose."""


class ConfigError(AnalyticsError):
    """A setting is missing or malformed; the message names the variable or config key."""


class StoreError(AnalyticsError):
    """The database cannot be reached, migrated or written."""


class MigrationError(StoreError):
    """The database schema is at a revision this version of the workbook cannot handle."""


class StoreNotFoundError(StoreError):
    """There is no store where the settings point: the message names the paths looked at and the command that
    creates one (``analytics init`` or ``analytics demo``)."""


class DataValidationError(AnalyticsError):
    """Input rows do not fit the schema.

    Attributes
    ----------
    file, row, column:
        Where the problem is (``row`` counts data rows from 1, after the header).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.row = row
        self.column = column


class ImportFileError(DataValidationError):
    """A whole file cannot be imported (empty, not UTF-8, unknown format, missing required columns)."""


class SyncError(AnalyticsError):
    """A sync against the Whop API failed after its retries."""

    def __init__(self, message: str, *, request: Any = None, response: Any = None) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class ApiError(SyncError):
    """The Whop API answered with an error status; ``status_code`` and the parsed ``error`` body are kept."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error: dict[str, Any] | None = None,
        request: Any = None,
        response: Any = None,
    ) -> None:
        super().__init__(message, request=request, response=response)
        self.status_code = status_code
        self.error = error or {}


class SignatureError(AnalyticsError):
    """A webhook signature is missing, forged or outside the tolerance window."""


class MetricError(AnalyticsError):
    """A metric was asked for with arguments it cannot answer (unknown name, bad period or grain)."""


class ModelError(AnalyticsError):
    """A churn or fraud model cannot be trained, loaded or promoted."""


class ReportError(AnalyticsError):
    """A notebook run or report export failed; the message names the notebook and the cell."""


class AuthorizationError(AnalyticsError):
    """A dashboard token is missing, forged, expired or issued for another account."""


class StatisticalWarning(UserWarning):
    """A statistical result is unreliable (too little data, no convergence) but the work can go on."""
