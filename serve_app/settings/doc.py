"""Render docs/settings.md from the settings model, so the docs cannot drift from the code.

Run ``python -m serve_app.settings.doc > docs/settings.md`` after changing a setting; a unit
test fails while the file is out of date.
"""

from __future__ import annotations

from enum import Enum

from pydantic.fields import FieldInfo

from serve_app.settings.service import ServiceSettings
from serve_app.settings.stream import LIVE_STREAM_SETTINGS, StreamSettings

HEADER = """# Settings

Every knob of the service, generated from `serve_app/settings/` (the one place settings
live) by `python -m serve_app.settings.doc`.

Where a value comes from, lowest precedence first:

1. the default below;
2. `args:` of the application in `serve_config.yaml` (lower-case names);
3. environment variables, named as below (`CAPTURE_FPS=1 make run`);
4. per stream: the `settings` object of `POST /api/streams` (stream settings only).

Settings marked *live* can also change on a running service through the StreamGateway's
`user_config` in `serve_config.yaml` (`serve deploy serve_config.yaml` applies them without a
restart). Every value is validated at start; an error names the field.
"""


def _default(field: FieldInfo) -> str:
    value = field.default
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and len(value) > 40:
        value = value[:37] + "..."
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for name, symbol in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            bound = getattr(item, name, None)
            if bound is not None:
                parts.append(f"{symbol} {bound}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append(f"matches `{pattern}`")
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        parts.append(" / ".join(f"`{m.value}`" for m in annotation))
    return ", ".join(parts)


def _table(names: list[str]) -> list[str]:
    rows = ["| variable | default | allowed | what it does |", "| --- | --- | --- | --- |"]
    for name in names:
        field = ServiceSettings.model_fields[name]
        live = " *live*" if name in LIVE_STREAM_SETTINGS else ""
        description = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `{name.upper()}` | {_default(field)} | {_bounds(field)} | {description}{live} |"
        )
    return rows


def render() -> str:
    stream = list(StreamSettings.model_fields)
    service = [n for n in ServiceSettings.model_fields if n not in StreamSettings.model_fields]
    lines = [
        HEADER,
        "## Per stream",
        "",
        *_table(stream),
        "",
        "## Service-wide",
        "",
        *_table(service),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
