"""Reference runs of python-adaptive's IntegratorLearner, and the cases they run.

``integ_adaptive_reference.py --save FILE N`` saves python-adaptive's learner
of the sqrt case after N points with its ``save``.

``integ_adaptive_reference.py`` runs every case with the real python-adaptive
(importable, e.g. PYTHONPATH=/path/to/adaptive) asking and telling one point
at a time, and prints JSON: per case the points asked, their loss
improvements, and the final npoints, igral and err. That is how
python/tests/data/integ_adaptive_reference.json was made:

    PYTHONPATH=<adaptive 1.5.2 source> python3 python/tests/helpers/integ_adaptive_reference.py \
        > python/tests/data/integ_adaptive_reference.json

python-adaptive computes its quadrature nodes with NumPy's cos, which with
AVX-512 (SVML) differs by one unit in the last place from the C library's at
20 of the 33 nodes, so python-adaptive itself asks different points on
different machines. The taskmaster port uses the C library's (NumPy's
portable path); the script disables NumPy's AVX-512 paths so the reference
is that one, on any machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from typing import Any, Callable

CASES: dict[str, tuple[Callable[[float], float], tuple[float, float], float]] = {
    "sqrt": (math.sqrt, (0, 1), 1e-8),
    "exp": (math.exp, (0, 1), 1e-10),
    "wave": (lambda x: math.sin(30 * x) * x, (-2, 3), 1e-12),
}


def run(learner_class: Any, name: str) -> dict[str, Any]:
    """Asks and tells one point at a time until done; the points, improvements and result."""
    function, bounds, tol = CASES[name]
    learner = learner_class(function, bounds, tol)
    points: list[float] = []
    improvements: list[float] = []
    while not learner.done():
        xs, losses = learner.ask(1)
        points.append(float(xs[0]))
        improvements.append(float(losses[0]))
        learner.tell(xs[0], function(xs[0]))
    return {
        "points": points,
        "loss_improvements": improvements,
        "points_sha256": digest(points),
        "npoints": learner.npoints,
        "igral": float(learner.igral),
        "err": float(learner.err),
    }


def digest(points: list[float]) -> str:
    """A fingerprint of the exact points, in order."""
    return hashlib.sha256(",".join(map(repr, points)).encode()).hexdigest()


def avx512_features() -> str:
    """NumPy's AVX-512 dispatch targets on this machine, for NPY_DISABLE_CPU_FEATURES."""
    from numpy.core import _multiarray_umath as umath

    dispatched = getattr(umath, "__cpu_dispatch__", [])
    return " ".join(
        f for f in dispatched if f.startswith("AVX512") and umath.__cpu_features__.get(f) and f not in umath.__cpu_baseline__
    )


def main() -> None:
    if "NPY_DISABLE_CPU_FEATURES" not in os.environ:
        env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=avx512_features())
        sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env).returncode)
    import adaptive

    if sys.argv[1:2] == ["--save"]:  # --save FILE N: the sqrt case after N points, saved by python-adaptive
        function, bounds, tol = CASES["sqrt"]
        learner = adaptive.IntegratorLearner(function, bounds, tol)
        for _ in range(int(sys.argv[3])):
            xs, _ = learner.ask(1)
            learner.tell(xs[0], function(xs[0]))
        learner.save(sys.argv[2])
        return
    out: dict[str, Any] = {
        "generated_by": "PYTHONPATH=<python-adaptive 1.5.2> python3 "
        "python/tests/helpers/integ_adaptive_reference.py > python/tests/data/integ_adaptive_reference.json",
        "adaptive_version": adaptive.__version__,
        "cases": {},
    }
    for name in CASES:
        result = run(adaptive.IntegratorLearner, name)
        if name != "sqrt":  # the fingerprint is enough for the longer runs
            del result["points"], result["loss_improvements"]
        out["cases"][name] = result
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
