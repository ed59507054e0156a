"""Engines behind the stages: chat formatting, base models, training backends, GGUF export."""
