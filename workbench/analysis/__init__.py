"""Rates, intervals, changes against the base, agreement between judges and annotators."""
