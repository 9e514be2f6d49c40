"""The Comparison page (placeholder until the page lands)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("benchmark_ui", __name__, url_prefix="/comparison")
