"""The offline animatic, the default backend: every shot drawn (set, figures, look), moved by its camera,
voiced and given its sound bed, with no API key."""
