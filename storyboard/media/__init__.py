"""Side effects on pictures and sound: ffmpeg commands (built as data), probing, the cut's assembly."""

RATE = 48_000  # the sample rate of every sound storyboard makes (here so that a light process need not load the rest)
