"""andiflow: the HNU LSTM method for the anomalous exponent (AnDi 2020, Task 1), as a library."""

__version__ = "0.1.0"

# Bumped whenever a change to the sampler changes the trajectories it makes for a given seed.
GENERATOR_VERSION = 1
# Bumped whenever a change to training changes the model it makes from the same data and settings;
# it is among the training jobs' params, so the workflow retrains.
TRAINER_VERSION = 2
