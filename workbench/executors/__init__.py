"""Where a run's units execute: in this process (``local``), or dispatched to an existing engine:
a Ray cluster (``ray``) or Slurm job arrays through submitit (``slurm``).

The workbench schedules nothing itself beyond the order its stages need: a unit whose inputs are
complete is handed to the engine with the resources the plan estimates; the engine decides where
it runs. A remote unit works on a copy of the study database and brings its rows home as a shard
(:mod:`workbench.store.shards`), which the coordinator (:mod:`workbench.executors.coordinator`)
merges by the tables' unique keys.
"""

EXECUTORS = ("local", "ray", "slurm")
