"""taskmaster: python-adaptive's learners on a fast C++ core.

``import taskmaster as adaptive`` runs code written for python-adaptive 1.5
unchanged for the learners listed in ``__all__``.
"""

from . import learner
from .learner import Learner1D
from .learner.base_learner import uses_nth_neighbors

__version__ = "0.1.0"

__all__ = ["Learner1D", "learner", "uses_nth_neighbors", "__version__"]
