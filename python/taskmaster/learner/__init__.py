"""The learners, module for module as in python-adaptive's ``adaptive.learner``."""

from .base_learner import uses_nth_neighbors
from .learner1D import Learner1D

__all__ = ["Learner1D", "uses_nth_neighbors"]
