"""Stages that tests register in the stage registry (a toy stage, the fake stages of the TUI tests)."""
