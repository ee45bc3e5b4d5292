"""Runs from Python on the library's cluster masters (MPI ranks under a real
mpirun, SLURM jobs on the real cluster the test script starts) and runs
started in Python carried on, plotted and exported by the taskmaster
command, and the other way round."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import taskmaster
from taskmaster import _run
from conftest import HELPERS

sys.path.insert(0, str(HELPERS))
from peak1d import f as peak  # noqa: E402

PYTHON_DIR = Path(taskmaster.__file__).resolve().parent.parent


def events_of(history: Path) -> list[dict]:
    return [json.loads(line) for line in history.read_text().splitlines()[1:]]


def header_of(history: Path) -> dict:
    return json.loads(history.read_text().splitlines()[0])


def child_environment() -> dict:
    """This test's environment, with the package importable by a child Python."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), str(HELPERS), env.get("PYTHONPATH", "")])
    return env


# --- MPI ------------------------------------------------------------------------

MPIRUN = shutil.which("mpirun")


def mpirun(ranks: int, script: str, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = child_environment()
    # Root in CI's containers; OpenMPI refuses root unless told.
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return subprocess.run(
        [MPIRUN, "-n", str(ranks), sys.executable, "-c", textwrap.dedent(script), *arguments],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


needs_mpi = pytest.mark.skipif(
    MPIRUN is None or not _run.with_mpi, reason="needs OpenMPI's mpirun and a build with MPI"
)


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 4])
def test_mpi_ranks_evaluate_a_python_function_and_the_run_replays(tmp_path, ranks) -> None:
    history = tmp_path / "mpi.jsonl"
    result = mpirun(
        ranks,
        """
        import sys, taskmaster
        from peak1d import f
        learner = taskmaster.Learner1D(f, bounds=(-1, 1))
        summary = taskmaster.run(learner, npoints_goal=60, executor=taskmaster.MPI(),
                                 history=sys.argv[1], progress=False)
        rank = taskmaster.mpi_rank()
        assert (summary is None) == (rank != 0), (rank, summary)
        if rank == 0:
            assert summary.reason == "goal reached" and learner.npoints >= 60, summary
        # A file per rank: mpirun interleaves the ranks' output mid-line.
        open(f"{sys.argv[2]}/rank-{rank}-done", "w").close()
        """,
        str(history),
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.glob("rank-*-done")) == [f"rank-{r}-done" for r in range(ranks)]
    events = events_of(history)
    assert next(e for e in events if e["e"] == "capacity")["n"] == ranks - 1
    workers = {e["worker"] for e in events if e["e"] == "tell"}
    assert workers == set(range(1, ranks)) if ranks == 2 else workers <= set(range(1, ranks))
    told = [e for e in events if e["e"] == "tell"]
    assert all(e["y"] == peak(next(a["x"] for a in events if a.get("id") == e["id"] and a["e"] == "ask"))
               for e in told[:10])
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))


@needs_mpi
def test_mpi_ranks_run_a_program_per_point_and_failures_keep_their_reason(tmp_path) -> None:
    history = tmp_path / "mpi-program.jsonl"
    program = [sys.executable, str(HELPERS / "peak1d.py"), "{x}"]
    result = mpirun(
        3,
        """
        import json, sys, taskmaster
        from peak1d import f
        learner = taskmaster.Learner1D(f, bounds=(-1, 1))
        summary = taskmaster.run(learner, npoints_goal=20, history=sys.argv[1], progress=False,
                                 executor=taskmaster.MPI(command=json.loads(sys.argv[2])))
        if summary is not None:
            assert learner.npoints >= 20 and all(learner.data[x] == f(x) for x in learner.data)
        """,
        str(history),
        json.dumps(program),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {e["worker"] for e in events_of(history) if e["e"] == "tell"} <= {1, 2}
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))


@needs_mpi
def test_mpi_with_one_rank_says_how_to_start_it(tmp_path) -> None:
    result = mpirun(
        1,
        """
        import taskmaster
        try:
            taskmaster.run(taskmaster.Learner1D(abs, (-1, 1)), npoints_goal=5, executor=taskmaster.MPI(),
                           progress=False)
        except ValueError as error:
            print("refused:", error)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout and "mpirun -n" in result.stdout


# --- SLURM ----------------------------------------------------------------------


def slurm_available() -> bool:
    if shutil.which("sbatch") is None or "SLURM_CONF" not in os.environ:
        return False
    probe = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=30)
    return probe.returncode == 0 and probe.stdout.strip() != ""


@pytest.fixture
def slurm() -> None:
    """Skips without a SLURM cluster, or fails when TASKMASTER_REQUIRE_SLURM
    is set (the project's test script starts one)."""
    if not slurm_available():
        if os.environ.get("TASKMASTER_REQUIRE_SLURM"):
            pytest.fail("a SLURM cluster is required (TASKMASTER_REQUIRE_SLURM) but sinfo finds none")
        pytest.skip("no SLURM cluster (set SLURM_CONF; scripts/slurm-cluster.sh starts one)")


def fails_at_zero(x: float) -> float:
    if x == 0:
        raise ValueError("no value at zero")
    return peak(x)


def test_slurm_jobs_evaluate_the_python_function_with_failures_reported(slurm, tmp_path) -> None:
    history = tmp_path / "slurm.jsonl"
    learner = taskmaster.Learner1D(fails_at_zero, (-1, 1))
    summary = taskmaster.run(
        learner, npoints_goal=12, ntasks=3, history=history, progress=False,
        executor=taskmaster.Slurm(work_directory=tmp_path / "jobs", time_limit="00:05:00"),
    )
    assert summary.reason == "goal reached" and learner.npoints >= 12
    assert all(learner.data[x] == peak(x) for x in learner.data)
    # x = 0 is asked by the third point of a Learner1D on (-1, 1); its job fails.
    assert [x for x, _ in summary.failures] == [0.0]
    assert "ValueError: no value at zero" in summary.failures[0][1]
    assert (tmp_path / "jobs" / "function.pickle").exists()
    assert header_of(history)["meta"]["master"] == "slurm"
    replayed = taskmaster.Learner1D(fails_at_zero, (-1, 1))
    taskmaster.replay(history, replayed)
    assert replayed.data == learner.data


def test_slurm_jobs_run_a_program_and_the_run_resumes(slurm, tmp_path) -> None:
    history = tmp_path / "slurm-program.jsonl"
    program = taskmaster.Slurm(command=[sys.executable, str(HELPERS / "peak1d.py"), "{x}"],
                               work_directory=tmp_path / "jobs", arrays=False)
    learner = taskmaster.Learner1D(peak, (-1, 1))
    taskmaster.run(learner, npoints_goal=8, ntasks=2, history=history, progress=False, executor=program)
    resumed = taskmaster.Learner1D(peak, (-1, 1))
    summary = taskmaster.resume(history, resumed, npoints_goal=14, ntasks=2, progress=False, executor=program)
    assert summary.reason == "goal reached" and resumed.npoints >= 14
    assert all(resumed.data[x] == peak(x) for x in resumed.data)
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1)))


# --- the command-line tool and Python on one history ---------------------------


def tool(cli: Path, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([str(cli), *arguments], capture_output=True, text=True, timeout=timeout,
                            env=child_environment())
    assert result.returncode == 0, f"taskmaster {' '.join(arguments)}: {result.stderr}"
    return result


@pytest.mark.parametrize("executor", ["program", "python function"])
def test_a_run_started_in_python_is_carried_on_by_the_command_line_tool(cli, tmp_path, executor) -> None:
    history = tmp_path / "python.jsonl"
    options = {}
    if executor == "program":
        options["executor"] = taskmaster.Command([sys.executable, str(HELPERS / "peak1d.py"), "{x}"])
    learner = taskmaster.Learner1D(peak, (-1, 1), loss_per_interval=taskmaster.learner.learner1D.curvature_loss_function())
    taskmaster.run(learner, npoints_goal=25, ntasks=2, history=history, progress=False, **options)
    meta = header_of(history)["meta"]
    assert meta["tool"] == "taskmaster" and meta["learner"] == "1d" and meta["loss"] == "curvature"
    # The worker processes were sent a point ahead each; the tool does the same.
    per_worker = 2 if executor == "python function" else 1
    assert meta.get("prefetch", 0) == per_worker - 1

    info = tool(cli, "info", str(history)).stdout
    assert "1d" in info
    resumed = tool(cli, "resume", "-q", str(history), "--goal", "npoints=50")
    assert "resuming" in resumed.stderr
    assert [e["n"] for e in events_of(history) if e["e"] == "capacity"][-1] == 2 * per_worker
    tool(cli, "replay", str(history))
    tool(cli, "plot", str(history), "-o", str(tmp_path / "python.png"))
    assert (tmp_path / "python.png").stat().st_size > 1000
    csv = tool(cli, "export", str(history)).stdout.splitlines()
    assert len(csv) - 1 >= 50

    # And back: Python replays the file the tool appended to, and carries it on.
    # Both wrote outputs as the tool does (a number as a one-element array);
    # the Python learner is told numbers, as its function gives them.
    told = [e for e in events_of(history) if e["e"] == "tell"]
    assert len(told) >= 50 and all(isinstance(e["y"], list) and len(e["y"]) == 1 for e in told)
    assert all(np.ndim(v) == 0 for v in learner.data.values())
    again = taskmaster.Learner1D(peak, (-1, 1), loss_per_interval=taskmaster.learner.learner1D.curvature_loss_function())
    taskmaster.replay(history, again)
    assert again.npoints >= 50 and all(again.data[x] == peak(x) for x in again.data)
    assert all(np.ndim(v) == 0 for v in again.data.values())
    final = taskmaster.Learner1D(peak, (-1, 1), loss_per_interval=taskmaster.learner.learner1D.curvature_loss_function())
    summary = taskmaster.resume(history, final, npoints_goal=70, ntasks=2, progress=False, **options)
    assert summary.reason == "goal reached" and final.npoints >= 70


def test_a_run_the_tool_cannot_express_says_so(cli, tmp_path) -> None:
    history = tmp_path / "python-loss.jsonl"
    learner = taskmaster.Learner1D(peak, (-1, 1), loss_per_interval=lambda xs, ys: xs[1] - xs[0])
    taskmaster.run(learner, npoints_goal=10, ntasks=1, history=history, progress=False,
                   executor=taskmaster.Sequential())
    assert "tool" not in header_of(history)["meta"]
    result = subprocess.run([str(cli), "resume", str(history)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not written by the taskmaster command" in result.stderr
    taskmaster.replay(history, taskmaster.Learner1D(peak, (-1, 1), loss_per_interval=lambda xs, ys: xs[1] - xs[0]))


# --- Jupyter --------------------------------------------------------------------


def test_a_background_run_in_a_jupyter_kernel_shows_live_progress(tmp_path) -> None:
    """A real kernel (ipykernel through nbclient): the Runner leaves the
    notebook free, live_info() keeps an output up to date, and the learner
    can be read while the run goes on."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import sys, time\n"
        f"sys.path[:0] = [{str(PYTHON_DIR)!r}, {str(HELPERS)!r}]\n"
        "import taskmaster\n"
        "def slow(x):\n"
        "    time.sleep(0.02)\n"
        "    return x ** 2\n"
        "learner = taskmaster.Learner1D(slow, (-1, 1))\n"
        "runner = taskmaster.Runner(learner, npoints_goal=150, ntasks=2, executor=taskmaster.Sequential())\n"
        "runner.live_info(update_interval=0.1)",
        # The kernel is free while the run goes on: this cell runs meanwhile.
        "seen = []\n"
        "while runner.status() == 'running':\n"
        "    seen.append(learner.npoints)\n"
        "    time.sleep(0.05)\n"
        "print('status', runner.status(), 'growing', len(set(seen)) > 3, 'final', learner.npoints)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, second = notebook.cells
    displayed = [o for o in first.outputs if o.get("output_type") == "display_data"]
    assert len(displayed) == 1, first.outputs
    text = displayed[0]["data"]["text/plain"]
    # The display was updated in place to the end of the run.
    assert "150 points told" in text or "151 points told" in text, text
    printed = "".join(o.get("text", "") for o in second.outputs)
    assert "status finished growing True" in printed, second.outputs
