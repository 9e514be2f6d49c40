"""The ``servicedesk`` command (``servicedesk.cli:main``): a Flask CLI group over the app, whose
commands every feature adds (``COMMANDS`` in ``servicedesk/app.py``)."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy.exc import SQLAlchemyError

from servicedesk.app import create_app


class ServicedeskGroup(FlaskGroup):
    """Turns database failures into one line on stderr instead of a stack trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            hint = " (has `servicedesk db upgrade` been run?)" if "no such table" in first else ""
            raise click.ClickException(f"database: {first}{hint}") from None


main = ServicedeskGroup(
    name="servicedesk",
    create_app=lambda: _create_app(),
    add_version_option=False,
    load_dotenv=False,
    help="Service desk metrics for Nordic municipalities.",
)


def _create_app() -> Flask:
    return create_app(for_cli=True)
