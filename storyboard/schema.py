"""The JSON Schema of the storyboard format, for editors' YAML language servers."""

from __future__ import annotations

from storyboard.model import Storyboard


def json_schema() -> dict:
    schema = Storyboard.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storyboard format, version 1"
    return schema
