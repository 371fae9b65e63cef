"""storyboard: turn a film written as a YAML storyboard into a finished cut."""

__version__ = "0.1.0"
