"""The run's settings in the shape the ``taskmaster`` command reads back.

A history's header carries the settings of the run under ``meta``. When a
run started from Python can be expressed with the command line's options (a
learner and loss it knows, a program or worker program, or the Python
function run by a worker program), the header says so in the command's own
terms, so that ``taskmaster resume``, ``info``, ``plot`` and ``export`` take
the run over as if the command had started it. Anything the command cannot
express (a loss or goal written in Python, an executor of Python's) leaves
the header with the Python description only.
"""

from __future__ import annotations

import math
from typing import Any, Optional

# The losses the command knows for each learner, by the Python learners'
# names; the 1D "default" is the command's "distance".
_INTERVAL_LOSSES = {
    "default": "distance",
    "uniform": "uniform",
    "curvature": "curvature",
    "triangle": "triangle",
    "abs_min_log": "abs_min_log",
    "resolution": "resolution",
}
_TRIANGLE_LOSSES = {n: n for n in ("default", "uniform", "triangle", "minimize_triangle_surface", "resolution")}
_SIMPLEX_LOSSES = {n: n for n in ("default", "uniform", "std", "triangle", "curvature")}


def _numbers(params: dict) -> Optional[dict]:
    """The parameters as finite floats, or None when one is not."""
    out = {}
    for key, value in params.items():
        if value is None or not math.isfinite(float(value)):
            return None
        out[str(key)] = float(value)
    return out


def _loss(native_spec: Any, loss: Any, names: dict) -> Optional[tuple[str, dict]]:
    spec = native_spec(loss)
    if spec is None or spec[0] not in names:
        return None
    params = _numbers(spec[1])
    return None if params is None else (names[spec[0]], params)


def _box(bounds: Any) -> Optional[list]:
    """Bounds as [[lo, hi], ...] of finite floats, or None (e.g. a hull)."""
    try:
        box = [[float(lo), float(hi)] for lo, hi in bounds]
    except (TypeError, ValueError):
        return None
    return box if all(math.isfinite(v) for pair in box for v in pair) else None


def describe_learner(learner: Any) -> Optional[dict]:
    """The command's learner settings for ``learner``: learner, bounds,
    loss, loss_params and learner_params; None when it has no equivalent."""
    from .learner import (
        AverageLearner,
        AverageLearner1D,
        IntegratorLearner,
        Learner1D,
        Learner2D,
        LearnerND,
        learner1D,
        learner2D,
        learnerND,
    )

    def settings(name: str, bounds: list, loss: Optional[tuple[str, dict]], **params: float) -> dict:
        return {
            "learner": name,
            "bounds": bounds,
            "loss": loss[0] if loss else "",
            "loss_params": loss[1] if loss else {},
            "learner_params": params,
        }

    if isinstance(learner, AverageLearner1D):
        box = _box([learner.bounds])
        loss = _loss(learner1D.native_spec, learner.loss_per_interval, _INTERVAL_LOSSES)
        params = _numbers(
            {
                "delta": learner.delta,
                "alpha": learner.alpha,
                "neighbor_sampling": learner.neighbor_sampling,
                "min_samples": learner.min_samples,
                "max_samples": learner.max_samples,
                "min_error": learner.min_error,
            }
        )
        if box is None or loss is None or params is None:
            return None
        return settings("average1d", box, loss, **params)
    if isinstance(learner, Learner1D):
        box = _box([learner.bounds])
        loss = _loss(learner1D.native_spec, learner.loss_per_interval, _INTERVAL_LOSSES)
        return None if box is None or loss is None else settings("1d", box, loss)
    if isinstance(learner, Learner2D):
        box = _box(learner.bounds)
        loss = _loss(learner2D.native_spec, learner.loss_per_triangle, _TRIANGLE_LOSSES)
        return None if box is None or loss is None else settings("2d", box, loss)
    if isinstance(learner, LearnerND):
        box = _box(learner.bounds)
        loss = _loss(learnerND.native_spec, learner.loss_per_simplex, _SIMPLEX_LOSSES)
        return None if box is None or loss is None else settings("nd", box, loss)
    if isinstance(learner, IntegratorLearner):
        box = _box([learner.bounds])
        return None if box is None else settings("integrator", box, None, tol=float(learner.tol))
    if isinstance(learner, AverageLearner):
        params = {"min_npoints": float(learner.min_npoints)}
        for key in ("atol", "rtol"):
            value = getattr(learner, key)
            if value is not None and math.isfinite(float(value)):
                params[key] = float(value)
        return settings("average", [], None, **params)
    return None


def goal_texts(
    npoints_goal: Optional[int], loss_goal: Optional[float], duration_goal: Optional[float], learner: Any
) -> Optional[list[str]]:
    """The goals as the command writes them, or None when the run has only
    goals the command cannot express (a callable, an end time)."""
    goals = []
    if npoints_goal is not None:
        goals.append(f"npoints={int(npoints_goal)}")
    if loss_goal is not None:
        goals.append(f"loss={float(loss_goal)!r}")
    if duration_goal is not None:
        goals.append(f"duration={float(duration_goal)!r}s")
    if not goals and callable(getattr(learner, "done", None)):
        goals.append("done")
    return goals or None


def tool_config(
    learner: Any,
    *,
    goals: Optional[list[str]],
    master: str,
    command: Optional[list[str]] = None,
    worker: Optional[list[str]] = None,
    workers: int,
    retries: int,
    timeout: Optional[float],
    seed: int,
    slurm: Optional[dict] = None,
    prefetch: int = 0,
) -> Optional[dict]:
    """The header settings of the command for this run, or None when the
    command could not carry it on."""
    described = describe_learner(learner)
    if described is None or goals is None or (command is None) == (worker is None):
        return None
    config = {"tool": "taskmaster", **described, "goals": goals}
    if command is not None:
        config["command"] = list(command)
    else:
        config["worker"] = list(worker or [])
    config.update(workers=int(workers), retries=int(retries), timeout=timeout, seed=int(seed), master=master)
    if prefetch and worker is not None:
        config["prefetch"] = int(prefetch)
    if slurm is not None:
        config["slurm"] = slurm
    return config
