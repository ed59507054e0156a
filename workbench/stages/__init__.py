"""The stages of a study, one module each, registered in :mod:`workbench.registry`.

Each module exposes ``STAGE``, a :class:`workbench.stages.base.Stage`; heavy imports stay inside ``run``.
"""
