"""docs/settings.md is generated from the settings model."""

from pathlib import Path

from serve_app.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[4]


def test_docs_settings_md_is_generated_from_the_model() -> None:
    from serve_app.settings.doc import render

    doc = (ROOT / "docs" / "settings.md").read_text()
    assert doc == render(), "run: python -m serve_app.settings.doc > docs/settings.md"
    for name in ServiceSettings.model_fields:
        assert f"`{name.upper()}`" in doc
