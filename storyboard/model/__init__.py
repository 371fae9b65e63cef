"""The domain: the storyboard as written, and what the pipeline derives from it."""

from storyboard.model.storyboard import (Camera, Character, DialogueLine, Defaults, Location, Shot, StateChange,
                                         Storyboard, Transition)

__all__ = ["Camera", "Character", "DialogueLine", "Defaults", "Location", "Shot", "StateChange",
           "Storyboard", "Transition"]
