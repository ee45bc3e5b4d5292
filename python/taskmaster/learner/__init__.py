"""The learners, module for module as in python-adaptive's ``adaptive.learner``."""

from .average_learner import AverageLearner
from .average_learner1D import AverageLearner1D
from .balancing_learner import BalancingLearner
from .base_learner import StateError, uses_nth_neighbors
from .data_saver import DataSaver, make_datasaver
from .integrator_learner import IntegratorLearner
from .learner1D import Learner1D
from .learner2D import Learner2D
from .learnerND import LearnerND
from .sequence_learner import SequenceLearner

__all__ = [
    "AverageLearner",
    "AverageLearner1D",
    "BalancingLearner",
    "DataSaver",
    "IntegratorLearner",
    "Learner1D",
    "Learner2D",
    "LearnerND",
    "SequenceLearner",
    "StateError",
    "make_datasaver",
    "uses_nth_neighbors",
]
