"""Where the engine's Jinja2 templates (notices, dossiers, traces) live."""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
