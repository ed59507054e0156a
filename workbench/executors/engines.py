"""The engines a run's tasks are handed to: a Ray cluster, or Slurm job arrays through submitit.

Both take a task's JSON description and run :func:`workbench.executors.worker.run_task_json` with it;
both say a task was *lost* (the worker died, the node went away, the job was pre-empted or timed out)
as an error the coordinator retries, while a unit's own failure comes back inside the result.
The engines' libraries are imported here only, when a run asks for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.errors import WorkbenchError


def _need(module: str, extra: str = "cluster"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise WorkbenchError(
            f"--executor needs the {module!r} package, which is not installed",
            f"pip install -e '.[{extra}]' (scripts/setup.sh installs it)",
        ) from None


def make(name: str, recipe, *, workers: int | None = None):
    """The engine called ``name`` (``ray`` or ``slurm``) for ``recipe``'s ``[run]`` settings."""
    if name == "ray":
        return RayEngine(recipe.run.ray, workers=workers)
    if name == "slurm":
        from workbench.executors.coordinator import shared_dir

        return SlurmEngine(recipe.run.slurm, shared_dir(recipe) / "slurm")
    raise WorkbenchError(f"--executor: unknown executor {name!r}", "use local, ray or slurm")


class RayEngine:
    """Tasks as Ray tasks, with the CPUs, GPUs and memory the plan estimates."""

    name = "ray"

    def __init__(self, settings, *, workers: int | None = None):
        ray = _need("ray")
        self.ray = ray
        address = settings.address or os.environ.get("RAY_ADDRESS")
        kw = {"ignore_reinit_error": True, "log_to_driver": False, "include_dashboard": False}
        try:
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(address="local", num_cpus=workers or settings.workers or os.cpu_count(), **kw)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise WorkbenchError(
                f"ray: cannot reach the cluster at {address or 'a new local cluster'} ({exc})",
                "check RAY_ADDRESS or [run.ray] address (`ray status` there); a cluster with token "
                "authentication needs RAY_AUTH_MODE=token here too; or use --executor local",
            ) from None
        from workbench.executors.worker import run_task_json

        self._task = ray.remote(run_task_json)
        self.cpus_per_task = settings.cpus_per_task
        total = ray.cluster_resources()
        self.memory = total.get("memory")
        self.has_gpus = total.get("GPU", 0) > 0
        from workbench.estimates import gpu_class

        self.gpu_class = gpu_class(self.has_gpus)

    def submit(self, spec: dict, res) -> object:
        memory = res.memory_bytes
        if memory and self.memory:
            memory = min(memory, 0.9 * self.memory)  # an estimate above the cluster would never be scheduled
        return self._task.options(
            name=spec["task_id"],
            num_cpus=max(res.cpus, self.cpus_per_task),
            num_gpus=res.gpus if self.has_gpus else 0,
            memory=int(memory) if memory else None,
            max_retries=0,  # the coordinator retries (bounded), with a fresh seed
        ).remote(json.dumps(spec))

    def submit_many(self, items: list[tuple[dict, object]]) -> list:
        return [self.submit(spec, res) for spec, res in items]

    def describe(self, handle) -> str:
        return f"ray task {handle.task_id().hex()[:12]}"

    def wait(self, handles: list, timeout: float) -> list[tuple[object, dict | None, str | None]]:
        ray = self.ray
        done, _ = ray.wait(handles, num_returns=len(handles), timeout=timeout)
        out = []
        for ref in done:
            try:
                out.append((ref, json.loads(ray.get(ref)), None))
            except ray.exceptions.RayError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                out.append((ref, None, f"{type(exc).__name__}: {first}"[:300]))
        return out

    def close(self) -> None:
        self.ray.shutdown()


class SlurmEngine:
    """Tasks as Slurm jobs through submitit: the tasks of one hand-off that ask alike go as one job array."""

    name = "slurm"

    def __init__(self, settings, folder: Path):
        self.submitit = _need("submitit")
        self.settings = settings
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        if settings.cluster == "slurm":
            import shutil

            if shutil.which("sbatch") is None:
                raise WorkbenchError(
                    "slurm: sbatch is not on PATH here",
                    'run on a Slurm login node, or set [run.slurm] cluster = "local" to test locally',
                )
        from workbench.estimates import gpu_class

        self.gpu_class = gpu_class(settings.gpus_per_task > 0 and settings.cluster == "slurm")

    def _executor(self, params: dict):
        """A submitit executor with exactly ``params`` (parameters stick to an executor once set)."""
        if self.settings.cluster == "local":
            ex = self.submitit.LocalExecutor(folder=str(self.folder))
        else:
            ex = self.submitit.AutoExecutor(folder=str(self.folder), cluster="slurm")
        ex.update_parameters(**params)
        return ex

    def _parameters(self, res) -> dict:
        s = self.settings
        est_min = (res.seconds or 0) / 60
        timeout = s.time_limit_min or max(30, int(2 * est_min) + 1)
        if s.cluster == "local":
            return {"timeout_min": timeout}
        mem = s.mem_gb or (max(4.0, 1.5 * res.memory_bytes / 1e9) if res.memory_bytes else None)
        params = {
            "timeout_min": timeout,
            "slurm_partition": s.partition,
            "slurm_account": s.account,
            "gpus_per_node": s.gpus_per_task if res.gpus and s.gpus_per_task else None,
            "cpus_per_task": s.cpus_per_task,
            "slurm_additional_parameters": dict(s.sbatch),
        }
        if mem:
            params["mem_gb"] = mem
        return {k: v for k, v in params.items() if v is not None}

    def submit(self, spec: dict, res) -> object:
        from workbench.executors.worker import run_task_json

        return self._executor(self._parameters(res)).submit(run_task_json, json.dumps(spec))

    def submit_many(self, items: list[tuple[dict, object]]) -> list:
        """One job array per set of parameters (tasks asking alike: a stage's units, usually)."""
        from workbench.executors.worker import run_task_json

        groups: dict[str, list[int]] = {}
        params = [self._parameters(res) for _spec, res in items]
        for i, p in enumerate(params):
            groups.setdefault(json.dumps(p, sort_keys=True, default=str), []).append(i)
        jobs: list = [None] * len(items)
        for members in groups.values():
            ex = self._executor(params[members[0]])
            with ex.batch():
                submitted = [ex.submit(run_task_json, json.dumps(items[i][0])) for i in members]
            for i, job in zip(members, submitted, strict=True):
                jobs[i] = job
        return jobs

    def describe(self, handle) -> str:
        return f"slurm job {handle.job_id}"

    def wait(self, handles: list, timeout: float) -> list[tuple[object, dict | None, str | None]]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            done = [h for h in handles if h.done()]
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        out = []
        for job in done:
            try:
                out.append((job, json.loads(job.result()), None))
            except self.submitit.core.utils.UncompletedJobError as exc:  # pre-empted, timed out, lost
                out.append((job, None, f"job {job.job_id} did not complete: {str(exc).splitlines()[0][:200]}"))
            except self.submitit.core.utils.FailedJobError as exc:
                lines = [x for x in str(exc).splitlines() if x.strip()]
                out.append((job, None, f"job {job.job_id} failed: {(lines[-1] if lines else '')[:200]}"))
        return out

    def close(self) -> None:
        pass
