"""What every taskmaster learner offers beyond ask and tell, written once.

python-adaptive's ``BaseLearner`` asks each learner for ``_get_data`` and
``_set_data`` and builds ``save``, ``load`` and ``copy_from`` on them; the
same contract holds here, so files written by python-adaptive's ``save``
load into a taskmaster learner and the other way round. Pickling keeps more:
the compiled learner's whole state, so a pickled learner asks exactly the
points the original would have asked.
"""

from __future__ import annotations

import gzip
import os
import pickle
from typing import Any, Callable

import cloudpickle

__all__ = [
    "uses_nth_neighbors",
    "LearnerMixin",
    "StateError",
    "save_file",
    "load_file",
    "extend_compiled",
]


class StateError(ValueError):
    """A saved learner state that cannot be loaded: of another kind of learner,
    written by a newer version, malformed, made for other parameters, or
    loaded into a learner that already holds data (the compiled learners'
    ``taskmaster::StateError``). A ValueError, as python-adaptive raises.
    """


def uses_nth_neighbors(n: int) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Marks a Learner1D loss as looking at ``n`` neighbouring intervals on each side.

    Same meaning as python-adaptive's decorator of the same name: the loss is
    then called with ``2 * n + 2`` points (``None`` where a neighbour is
    missing) and is recomputed whenever one of them changes.
    """

    def mark(loss: Callable[..., float]) -> Callable[..., float]:
        loss.nth_neighbors = n  # type: ignore[attr-defined]
        return loss

    return mark


def save_file(fname: str, data: Any, compress: bool = True) -> None:
    """Writes ``data`` as python-adaptive's ``save`` does (cloudpickle, gzip), atomically."""
    fname = os.path.expanduser(fname)
    directory = os.path.dirname(fname)
    if directory:
        os.makedirs(directory, exist_ok=True)
    blob = cloudpickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    if compress:
        blob = gzip.compress(blob)
    temporary = f"{fname}.{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(blob)
    os.replace(temporary, fname)


def load_file(fname: str, compress: bool = True) -> Any:
    """Reads what :func:`save_file` (or python-adaptive's ``save``) wrote."""
    fname = os.path.expanduser(fname)
    opener = gzip.open if compress else open
    with opener(fname, "rb") as f:
        return cloudpickle.load(f)


def _restore(cls: type, function: bytes, arguments: tuple, state: Any) -> Any:
    learner = cls(cloudpickle.loads(function), *arguments)
    learner._restore_state(state)
    return learner


class LearnerMixin:
    """save/load/copy_from/new/pickling for the compiled learners.

    A learner class using it defines ``_get_data``/``_set_data`` (the data
    python-adaptive's ``save`` writes), ``_init_arguments`` (the constructor
    arguments after the function), and ``_full_state``/``_restore_state``
    (everything the compiled learner holds, for pickling).
    """

    function: Callable[..., Any]

    def _init_arguments(self) -> tuple:
        raise NotImplementedError

    def _get_data(self) -> Any:
        raise NotImplementedError

    def _set_data(self, data: Any) -> None:
        raise NotImplementedError

    def _full_state(self) -> Any:
        return self._get_data()

    def _restore_state(self, state: Any) -> None:
        self._set_data(state)

    def new(self) -> Any:
        """A learner with the same function and parameters, and no data."""
        return type(self)(self.function, *self._init_arguments())

    def copy_from(self, other: Any) -> None:
        """Tells this learner everything ``other`` learned (its ``_get_data``)."""
        self._set_data(other._get_data())

    def save(self, fname: str, compress: bool = True) -> None:
        """Saves the learner's data to ``fname`` in python-adaptive's format.

        The file holds what python-adaptive's ``save`` writes for the same
        learner (a gzip-compressed cloudpickle of ``_get_data()``), so either
        library can load it.
        """
        save_file(fname, self._get_data(), compress)

    def load(self, fname: str, compress: bool = True) -> None:
        """Tells the learner the data saved in ``fname``; a missing or empty file is ignored, as in python-adaptive."""
        try:
            data = load_file(fname, compress)
        except (FileNotFoundError, EOFError):
            return
        self._set_data(data)

    def __reduce__(self) -> tuple:
        return (
            _restore,
            (type(self), cloudpickle.dumps(self.function), self._init_arguments(), self._full_state()),
        )

    def __copy__(self) -> Any:
        return pickle.loads(pickle.dumps(self))

    def __deepcopy__(self, memo: dict) -> Any:
        return pickle.loads(pickle.dumps(self))


def extend_compiled(compiled: type, extras: type, module: str, doc: str) -> type:
    """Adds the Python-written methods of ``extras`` (and its bases) to the
    compiled class ``compiled`` and returns it.

    Used instead of subclassing where speed counts: a call on an instance of
    a Python subclass of a compiled class pays for finding the compiled part
    on every call, which is a sizeable share of a fast ask or tell.
    """
    for base in reversed(extras.__mro__[:-1]):
        for name, value in vars(base).items():
            if name in ("__dict__", "__weakref__", "__module__", "__qualname__", "__doc__"):
                continue
            if name in ("__annotations__",):
                continue
            setattr(compiled, name, value)
    compiled.__module__ = module
    compiled.__doc__ = doc
    return compiled
