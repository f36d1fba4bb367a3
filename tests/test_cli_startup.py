"""The command line starts light: its commands are imported when they run, not to print the help.

Structural checks, not timings (``benchmarks/cli_startup.py`` measures the time): which modules a fresh
interpreter has loaded after ``import analytics.cli`` and after printing a command's help.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from analytics.cli import LAZY_COMMANDS, cli
from analytics.cli.context import error_line
from analytics.errors import ConfigError, MetricError

HEAVY = ("sklearn", "scipy", "altair", "ipywidgets", "skops", "papermill", "nbconvert", "uvicorn", "voila")
"""Packages no command's help needs (the churn stack, charts, widgets, notebooks, servers)."""


def loaded_after(code: str) -> set[str]:
    """Top-level packages a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_package() -> None:
    loaded = loaded_after("import analytics.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    # the store and pandas load when a command opens the store, not before
    assert not loaded & {"sqlalchemy", "pandas", "numpy"}, sorted(loaded & {"sqlalchemy", "pandas", "numpy"})


@pytest.mark.parametrize("args", [["--help"], ["metric", "--help"], ["dashboard-link", "--help"]])
def test_help_loads_no_heavy_package(args: list[str]) -> None:
    run = f"""
import sys
from analytics.cli import main
sys.argv = ["analytics", *{args!r}]
try:
    main()
except SystemExit:
    pass
"""
    loaded = loaded_after(run)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_help_lists_every_command_with_its_own_first_sentence() -> None:
    """The lines `analytics --help` shows without importing the commands are the commands' own docstrings."""
    helped = CliRunner().invoke(cli, ["--help"])
    assert helped.exit_code == 0
    for name, (target, shown) in LAZY_COMMANDS.items():
        assert f"  {name} " in helped.output
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name, target
        assert shown == command.get_short_help_str(limit=1000), f"update LAZY_COMMANDS[{name!r}]"


def test_a_command_still_runs_and_shows_its_help() -> None:
    shown = CliRunner().invoke(cli, ["metric", "--help"])
    assert shown.exit_code == 0 and "--param NAME=VALUE" in shown.output
    unknown = CliRunner().invoke(cli, ["nope"])
    assert unknown.exit_code == 2 and "No such command 'nope'" in unknown.output


def test_error_lines_say_what_is_wrong_in_words() -> None:
    assert error_line(MetricError("unknown metric 'mrrr'")) == "unknown metric 'mrrr'"
    # an error without a message says what kind of problem it is, not its class name
    assert error_line(ConfigError()) == "A setting is missing or malformed"
