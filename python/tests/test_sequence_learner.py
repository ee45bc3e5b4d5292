"""SequenceLearner: python-adaptive's API, checked member by member and
against python-adaptive's SequenceLearner under random operations."""

from __future__ import annotations

import math
import pickle
import random

import cloudpickle
import numpy as np
import pytest

from taskmaster.learner.sequence_learner import SequenceLearner


def square(x):
    return x * x


def scaled(x, factor=3):
    return factor * x


def finish(learner) -> None:
    while not learner.done():
        points, _ = learner.ask(3)
        for p in points:
            learner.tell(p, learner.function(p))


@pytest.fixture
def adaptive():
    return pytest.importorskip("adaptive")


def test_asks_in_order_and_finishes():
    learner = SequenceLearner(square, [5, 6, 7, 8])
    assert learner.loss() == 1.0 and not learner.done()
    points, improvements = learner.ask(3)
    assert points == [(0, 5), (1, 6), (2, 7)]
    assert improvements == [0.25] * 3
    assert learner.pending_points == {0, 1, 2}
    assert learner.loss(real=False) == 0.25 and learner.loss() == 1.0
    learner.tell((2, 7), 49)
    learner.tell((0, 5), 25)
    assert list(learner.data) == [0, 2] and learner.npoints == 2
    assert learner.loss() == 0.5
    with pytest.raises(RuntimeError, match="not done"):
        learner.result()
    assert learner.ask(5) == ([(3, 8)], [0.25])
    learner.tell((1, 6), 36)
    learner.tell((3, 8), 64)
    assert learner.done() and learner.loss() == 0.0 and learner.loss(real=False) == 0.0
    assert learner.result() == [25, 36, 49, 64]
    assert learner.ask(2) == ([], [])
    assert learner._cache["loss"] == 0.0


def test_function_drops_the_index_and_pickles():
    learner = SequenceLearner(square, range(4))
    assert learner.function((3, 5)) == 25
    assert learner.function.function is square
    again = pickle.loads(pickle.dumps(learner.function))
    assert again((0, 4)) == 16


def test_data_is_in_index_order():
    learner = SequenceLearner(square, range(10))
    points, _ = learner.ask(10)
    for p in reversed(points):
        learner.tell(p, square(p[1]))
    assert list(learner.data) == list(range(10))
    assert list(learner.data.values()) == [square(i) for i in range(10)]


def test_ask_without_pending_and_ask_zero():
    learner = SequenceLearner(square, "abc")
    assert learner.ask(2, tell_pending=False) == ([(0, "a"), (1, "b")], [1 / 3, 1 / 3])
    assert learner.pending_points == set()
    assert learner.ask(0) == ([], [])
    assert learner.ask(2)[0] == [(0, "a"), (1, "b")]
    assert learner.ask(2)[0] == [(2, "c")]


def test_remove_unfinished_hands_points_out_again_in_order():
    learner = SequenceLearner(square, range(6))
    learner.ask(4)
    learner.tell((1, 1), 1)
    learner.remove_unfinished()
    assert learner.pending_points == set()
    assert learner.ask(10)[0] == [(0, 0), (2, 2), (3, 3), (4, 4), (5, 5)]


def test_tell_and_tell_pending_out_of_order():
    learner = SequenceLearner(square, range(5))
    learner.tell((3, None), 9)
    learner.tell_pending((1, None))
    assert learner.ask(5)[0] == [(0, 0), (2, 2), (4, 4)]
    learner.tell_pending((3, None))  # already has a value: ignored
    assert learner.pending_points == {0, 1, 2, 4}


def test_unhashable_and_numpy_elements():
    learner = SequenceLearner(len, [{1: 1}, [1, 2]])
    finish(learner)
    assert learner.result() == [1, 2]
    array = np.linspace(0, 1, 5)
    learner = SequenceLearner(square, array)
    finish(learner)
    assert learner.result() == [x * x for x in array]
    assert learner.sequence is not array and np.array_equal(learner.sequence, array)


def test_empty_sequence():
    learner = SequenceLearner(square, [])
    assert learner.done() and learner.loss() == 0.0 and learner.result() == []
    assert learner.ask(3) == ([], [])


def test_bad_input():
    with pytest.raises(TypeError, match="len"):
        SequenceLearner(square, (x for x in range(3)))
    with pytest.raises(TypeError, match="len"):
        SequenceLearner(square, {1, 2})
    learner = SequenceLearner(square, range(3))
    with pytest.raises(IndexError, match="out of range"):
        learner.tell((3, 3), 9)
    with pytest.raises(IndexError, match="out of range"):
        learner.tell_pending((-1, 2))
    with pytest.raises(TypeError, match="integer"):
        learner.tell(("0", 0), 0)
    with pytest.raises(ValueError, match=">= 0"):
        learner.ask(-2)
    with pytest.raises(ValueError, match="2 points but 1 values"):
        learner.tell_many([(0, 0), (1, 1)], [0])
    learner.tell((2.0, 2), 4)  # an integral float index, as from a DataFrame column
    assert learner.data == {2: 4}
    with pytest.raises(TypeError, match="integer"):
        learner.tell((1.5, 0), 0)
    with pytest.raises(Exception, match="not done"):
        learner.result()


def test_tell_many_and_npoints():
    learner = SequenceLearner(square, range(4))
    learner.tell_many([(0, 0), (3, 3)], [0, 9])
    assert learner.npoints == 2 and learner.data == {0: 0, 3: 9}


def test_new():
    learner = SequenceLearner(square, [1, 2, 3])
    finish(learner)
    fresh = learner.new()
    assert fresh.npoints == 0 and fresh.sequence == [1, 2, 3] and fresh.function.function is square


def test_save_and_load(tmp_path):
    learner = SequenceLearner(square, range(10))
    learner.tell_many([(i, i) for i in (0, 4, 7)], [0, 16, 49])
    path = str(tmp_path / "seq.pickle")
    learner.save(path)
    fresh = learner.new()
    fresh.load(path)
    assert fresh.data == learner.data
    assert fresh.ask(3)[0] == [(1, 1), (2, 2), (3, 3)]
    missing = learner.new()
    missing.load(str(tmp_path / "missing"))
    assert missing.npoints == 0


def test_files_are_adaptives(adaptive, tmp_path):
    mine = SequenceLearner(square, range(8))
    mine.tell_many([(1, 1), (5, 5)], [1, 25])
    path = str(tmp_path / "mine.gz")
    mine.save(path)
    theirs = adaptive.SequenceLearner(square, range(8))
    theirs.load(path)
    assert dict(theirs.data) == mine.data
    theirs.tell((6, 6), 36)
    theirs.save(path)
    mine = SequenceLearner(square, range(8))
    mine.load(path)
    assert mine.data == {1: 1, 5: 25, 6: 36}
    assert mine.ask(8) == theirs.ask(8)


@pytest.mark.parametrize("serializer", [pickle, cloudpickle])
def test_pickling(serializer):
    learner = SequenceLearner(lambda x: -x, list(range(12)))
    points, _ = learner.ask(5)
    learner.tell_many(points[:3], [-i for i, _ in points[:3]])
    copy = serializer.loads(serializer.dumps(learner))
    assert copy.data == learner.data
    assert copy.pending_points == learner.pending_points == {3, 4}
    assert copy.ask(4) == learner.ask(4)
    assert copy.function((0, 7)) == -7


def test_to_numpy():
    learner = SequenceLearner(lambda x: [x, 2 * x], range(4))
    learner.tell_many([(2, 2), (0, 0)], [[2, 4], [0, 0]])
    assert learner.to_numpy().tolist() == [[0, 0, 0], [2, 2, 4]]
    assert SequenceLearner(square, range(2)).to_numpy().shape == (0, 2)


def test_dataframes():
    pandas = pytest.importorskip("pandas")
    learner = SequenceLearner(scaled, range(10, 30))
    while learner.npoints < 10:
        points, _ = learner.ask(1)
        learner.tell(points[0], learner.function(points[0]))
    df = learner.to_dataframe()
    assert list(df.columns) == ["i", "x", "y", "function.factor"]
    assert len(df) == 10 and df["x"].iloc[0] == 10 and df["y"].iloc[3] == 39
    assert df.attrs == {"inputs": ["i"], "output": "y"}
    full = learner.to_dataframe(full_sequence=True)
    assert len(full) == 20 and full["x"].iloc[-1] == 29 and full["y"].iloc[-1] is pandas.NA

    fresh = learner.new()
    fresh.load_dataframe(df)
    assert fresh.data == learner.data
    assert fresh.to_dataframe().equals(df)
    again = learner.new()
    again.load_dataframe(full, full_sequence=True)
    assert again.data == learner.data
    assert again.to_dataframe(full_sequence=True).equals(full)

    plain = learner.to_dataframe(with_default_function_args=False, index_name="k", x_name="u", y_name="v")
    assert list(plain.columns) == ["k", "u", "v"]


def test_load_dataframe_binds_arguments_and_keeps_points_as_pairs():
    pytest.importorskip("pandas")
    learner = SequenceLearner(scaled, range(5))
    learner.tell((0, 0), 0)
    df = learner.to_dataframe()
    df["function.factor"] = 10
    fresh = learner.new()
    with pytest.warns(UserWarning, match="factor=10"):
        fresh.load_dataframe(df)
    # Still called with (index, element) points, now with factor=10.
    assert fresh.function((4, 4)) == 40
    assert fresh.to_dataframe()["function.factor"].tolist() == [10]


def test_dataframe_as_adaptive(adaptive):
    pandas = pytest.importorskip("pandas")
    theirs = adaptive.SequenceLearner(scaled, range(10, 20))
    mine = SequenceLearner(scaled, range(10, 20))
    for learner in (theirs, mine):
        adaptive.runner.simple(learner, npoints_goal=6)
    pandas.testing.assert_frame_equal(theirs.to_dataframe(), mine.to_dataframe())
    pandas.testing.assert_frame_equal(
        theirs.to_dataframe(full_sequence=True), mine.to_dataframe(full_sequence=True)
    )


def test_same_as_adaptive_under_random_operations(adaptive):
    rng = random.Random(7)
    for trial in range(150):
        sequence = list(range(rng.randint(0, 25)))
        theirs, mine = adaptive.SequenceLearner(square, sequence), SequenceLearner(square, sequence)
        for step in range(40):
            roll = rng.random()
            if roll < 0.4:
                n, mark = rng.randint(0, 4), rng.random() < 0.7
                assert mine.ask(n, tell_pending=mark) == theirs.ask(n, tell_pending=mark), (trial, step)
            elif roll < 0.7 and theirs.pending_points:
                i = rng.choice(sorted(theirs.pending_points))
                for learner in (theirs, mine):
                    learner.tell((i, i), i * i)
            elif roll < 0.8 and sequence:
                i = rng.randrange(len(sequence))
                for learner in (theirs, mine):
                    learner.tell((i, i), -i)
            elif roll < 0.9:
                for learner in (theirs, mine):
                    learner.remove_unfinished()
            elif sequence:
                i = rng.randrange(len(sequence))
                if i not in theirs.data:  # adaptive marks even finished ones
                    for learner in (theirs, mine):
                        learner.tell_pending((i, i))
            assert list(mine.data.items()) == list(theirs.data.items())
            assert mine.pending_points == theirs.pending_points
            assert (mine.loss(), mine.loss(False), mine.done(), mine.npoints) == (
                theirs.loss(),
                theirs.loss(False),
                theirs.done(),
                theirs.npoints,
            )
        if mine.done():
            assert mine.result() == theirs.result()


def test_long_sequence_is_fast_enough():
    # Handing out and taking back points must not rescan the sequence.
    learner = SequenceLearner(math.sqrt, range(200_000))
    for _ in range(2_000):
        points, _ = learner.ask(50)
        learner.tell_many(points[:45], [0.0] * 45)
        if len(learner.pending_points) > 500:
            learner.remove_unfinished()
    assert learner.npoints == 90_000
