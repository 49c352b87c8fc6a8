"""Settings errors a user can cause, worded so that they name every offending field."""

from __future__ import annotations

from pydantic import ValidationError


class SettingsError(ValueError):
    """A setting is wrong. The message names every offending field and why."""


def describe_validation_error(error: ValidationError, where: str = "settings") -> str:
    """One line per bad field, ``<where>: <field>: <why>``, so a user can fix them all at once."""
    lines = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(model)"
        lines.append(f"{where}: {field}: {item['msg']}")
    return "\n".join(lines)
