"""The stages of a study. Each module exposes ``run(ctx)``; heavy imports stay inside ``run``."""
