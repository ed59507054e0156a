"""The multilingual safety workbench.

Nothing heavy is imported here: ``workbench --help`` and the TUI must start fast.
"""

__version__ = "0.1.0"
