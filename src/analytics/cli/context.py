"""What every CLI command shares: the settings (read once) and the store engine (opened on first use).

Imported by every command module, so it stays light: SQLAlchemy and the store load when a command opens the
engine, not for ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from analytics.errors import AnalyticsError
from analytics.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["CliContext", "FriendlyGroup", "error_line", "pass_cli"]


@dataclass
class CliContext:
    """Settings plus a lazily opened engine, handed to every command."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def from_options(cls, workspace: Path | None, database_url: str | None) -> CliContext:
        settings = load_settings()
        changes: dict[str, object] = {}
        if workspace is not None:
            changes["workspace"] = workspace
        if database_url is not None:
            changes["database_url"] = database_url
        return cls(settings.replace(**changes) if changes else settings)

    def engine(self, *, migrate: bool = True) -> Engine:
        """The store engine; by default the schema is created or upgraded first. It is closed with the command."""
        if self._engine is None:
            from analytics.store import create_store_engine, init_store

            self.settings.workspace.mkdir(parents=True, exist_ok=True)
            self._engine = create_store_engine(self.settings.database_url)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:  # close its connections when the command ends (also when invoked in-process)
                ctx.call_on_close(self.close)
            if migrate:
                init_store(self._engine)
        return self._engine

    def close(self) -> None:
        """Close the engine's connections (a later :meth:`engine` opens a new one)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def use_settings(self, settings: Settings) -> None:
        """Switch to other settings (e.g. ``analytics demo --workspace``), closing any open engine."""
        self.close()
        self.settings = settings


pass_cli = click.make_pass_decorator(CliContext)


def error_line(exc: AnalyticsError) -> str:
    """What a workbook error says, in words: its message (which names what is wrong and what to do), not its class.

    An error raised without a message says what kind of problem it is (the start of its class's docstring).
    """
    message = str(exc).strip()
    if message:
        return message
    kind = (type(exc).__doc__ or "The workbook stopped with an error.").strip().splitlines()[0]
    return kind.split(";")[0].rstrip(".")


class FriendlyGroup(click.Group):
    """A group that prints workbook errors as one clear line, ``Error: <what is wrong>`` (exit code 1), instead of
    a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AnalyticsError as exc:
            raise click.ClickException(error_line(exc)) from exc
