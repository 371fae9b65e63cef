"""The JSON Schemas of the format, for editors' YAML language servers: one for storyboards and
one for the series bibles they include (characters, locations, style, defaults)."""

from __future__ import annotations

import copy

from storyboard.model import Storyboard

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BIBLE_KEYS = ("characters", "locations", "style", "defaults")
BIBLE_IGNORED = ("version", "title", "include", "music")  # may stand in a bible; only include is used there


def json_schema() -> dict:
    """A storyboard file. A character's or location's description may come from an included
    bible, so the schema cannot require it: the tool does, after merging."""
    schema = Storyboard.model_json_schema()
    for name in ("Character", "Location"):
        d = schema["$defs"][name]
        d["required"] = [r for r in d.get("required", []) if r != "description"]
        if not d["required"]:
            del d["required"]
        d["properties"]["description"]["description"] = ("required, here or in an included bible: "
                                                          + d["properties"]["description"].get("description", ""))
    schema["$schema"] = DRAFT
    schema["title"] = "storyboard format, version 1"
    return schema


def bible_schema() -> dict:
    """A series bible: what `include:` merges under a storyboard. It holds no shots."""
    full = json_schema()
    props = {k: copy.deepcopy(full["properties"][k]) for k in BIBLE_KEYS + BIBLE_IGNORED}
    return {"$schema": DRAFT, "title": "storyboard series bible, version 1", "type": "object",
            "description": "characters, locations, style and defaults shared by the storyboards that include it",
            "properties": props, "additionalProperties": False, "$defs": full["$defs"]}
