"""How taskmaster.run starts its worker processes: the first ones forked
from the calling process (no interpreter start, nothing to unpickle), any
replacement from the worker program; what the function prints; and no
process left behind, even when the caller is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import taskmaster
from conftest import HELPERS, REPO, live_children, live_processes_with, wait_until_gone


def started_as_program() -> bool:
    """Whether this process is the worker program (spawned), not a fork."""
    with open("/proc/self/cmdline", "rb") as f:
        return b"_worker.py" in f.read()


def where_evaluated(x: float) -> float:
    """1.0 in a spawned worker, 0.0 in a forked one; a forked worker dies on x = 0."""
    spawned = started_as_program()
    if x == 0.0 and not spawned:
        os._exit(3)
    return 1.0 if spawned else 0.0


def test_first_workers_are_forked_and_a_crashed_one_is_replaced_by_the_program() -> None:
    learner = taskmaster.Learner1D(where_evaluated, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=30, ntasks=2, retries=3, progress=False)
    assert summary.failed == 0 and learner.npoints >= 30
    # The bounds go first, to the two forked workers.
    assert learner.data[-1.0] == 0.0 and learner.data[1.0] == 0.0
    # x = 0 killed forked workers (exit status 3) until a spawned replacement took it.
    assert learner.data[0.0] == 1.0
    assert summary.retried >= 1
    assert wait_until_gone(live_children) == []


def test_spawn_start_is_chosen_by_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TASKMASTER_WORKER_START", "spawn")
    learner = taskmaster.Learner1D(lambda x: 1.0 if started_as_program() else 0.0, (-1, 1))
    taskmaster.run(learner, npoints_goal=10, ntasks=2, progress=False)
    assert set(learner.data.values()) == {1.0}
    monkeypatch.setenv("TASKMASTER_WORKER_START", "vfork")
    with pytest.raises(ValueError, match="TASKMASTER_WORKER_START.*'vfork'"):
        taskmaster.run(taskmaster.Learner1D(abs, (-1, 1)), npoints_goal=10, progress=False)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_what_the_function_prints_does_not_break_the_run(tmp_path, start) -> None:
    script = tmp_path / "printing.py"
    script.write_text(textwrap.dedent("""
        import sys
        import taskmaster

        def noisy(x):
            print("evaluating", x)
            print("to stderr", x, file=sys.stderr)
            return x * x

        learner = taskmaster.Learner1D(noisy, (-1, 1))
        summary = taskmaster.run(learner, npoints_goal=25, ntasks=2, progress=False)
        print("RESULT", summary.failed, learner.npoints, flush=True)
    """))
    environment = dict(os.environ, TASKMASTER_WORKER_START=start)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env=environment)
    assert done.returncode == 0, done.stderr
    failed, npoints = done.stdout.split("RESULT")[1].split()
    assert failed == "0" and int(npoints) >= 25
    if start == "fork":
        # A forked worker prints where the caller prints.
        assert done.stdout.count("evaluating") >= 25


def test_forked_workers_of_a_killed_caller_are_killed_too(tmp_path) -> None:
    history = tmp_path / "hangs.jsonl"
    # Each point sleeps 1000 s: the workers are busy when the caller dies.
    child = subprocess.Popen([sys.executable, str(HELPERS / "run_and_wait.py"), str(history), "10", "1000"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "started"
        # The caller and its two forked workers carry the same command line;
        # so, for an instant, does a program the caller starts (until its
        # exec), hence the two same answers in a row.
        deadline = time.monotonic() + 30
        seen: list[list[int]] = []
        while time.monotonic() < deadline and not (len(seen) >= 2 and seen[-1] == seen[-2] and len(seen[-1]) == 2):
            time.sleep(0.1)
            seen.append(sorted(pid for pid in live_processes_with(str(history)) if pid != child.pid))
        assert len(seen[-1]) == 2, seen[-5:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert wait_until_gone(str(history)) == []


def reads_stdin(x: float) -> float:
    """Runs a program that reads its stdin to the end: it must find nothing
    there (not the worker's tasks) and end at once."""
    done = subprocess.run(["cat"], capture_output=True, timeout=20)
    return float(len(done.stdout)) + x * 0


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_programs_the_function_starts_cannot_take_its_tasks(monkeypatch, start) -> None:
    monkeypatch.setenv("TASKMASTER_WORKER_START", start)
    learner = taskmaster.Learner1D(reads_stdin, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=12, ntasks=2, timeout=30, progress=False)
    assert summary.failed == 0 and learner.npoints >= 12
    assert set(learner.data.values()) == {0.0}



def test_a_worker_program_from_the_template_may_print(tmp_path) -> None:
    """examples/workers/python_worker.py keeps the protocol to itself: a
    model that prints does not break it, under WorkerProgram."""
    script = tmp_path / "printing_worker.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / "examples" / "workers")!r})
        import python_worker

        def model(x):
            print("model at", x)
            return x * x

        python_worker.serve(model)
    """))
    learner = taskmaster.Learner1D(lambda x: 0.0, (-1, 1))
    summary = taskmaster.run(learner, npoints_goal=20, ntasks=2, progress=False,
                             executor=taskmaster.WorkerProgram([sys.executable, str(script)]))
    assert summary.failed == 0 and learner.npoints >= 20
    assert learner.data[0.5] == 0.25


def test_the_worker_program_speaks_the_protocol_over_real_pipes() -> None:
    """The worker program as the master sees it: several tasks in one write,
    blank lines, a last task without its newline, a reply larger than a
    pipe holds, a failing and a special value, each answered once, in order."""
    worker = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from taskmaster import _worker
            def f(x):
                if x == 3:
                    raise ValueError("three")
                if x == 4:
                    return [0.5] * 20000  # about 80 kB of JSON
                return float("nan") if x == 5 else x / 10
            tasks, replies = _worker.protocol_streams()
            _worker.serve(f, tasks, replies)
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    tasks = b'{"id":1,"x":1}\n\n{"id":2,"x":2}\n{"id":3,"x":3}\n{"id":4,"x":4}\n{"id":5,"x":5}\n{"id":6,"x":6}'
    out, _ = worker.communicate(tasks, timeout=60)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[0]["hello"] == "taskmaster-worker"
    replies = lines[1:]
    assert [r["id"] for r in replies] == [1, 2, 3, 4, 5, 6]
    assert replies[0]["y"] == 0.1 and replies[1]["y"] == 0.2 and replies[5]["y"] == 0.6
    assert "ValueError: three" in replies[2]["error"]
    assert replies[3]["y"] == [0.5] * 20000
    assert replies[4]["y"] == "nan"
    assert worker.returncode == 0
