"""The pure steps, in the order a storyboard flows through them: yamlsrc and loader (read and validate),
checks (lint before spending), continuity (the fold of state from shot to shot), compiler (prompts and
parameters), planner (content keys, takes, prices) and timeline (the cut in integer frames)."""
