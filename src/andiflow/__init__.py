"""andiflow: the anomalous exponent alpha of single-particle trajectories (AnDi 2020, Task 1): the HNU
LSTM method as a workflow, and trained ensembles that predict without it.

    import andiflow
    andiflow.predict(tracks_df)          # a DataFrame of tracks, a file, or arrays -> one row each
    andiflow.population(tracks_df)       # the population they come from: mean alpha, its interval, spread
    andiflow.load_ensemble("hnu-lstm-cpu")
"""

__version__ = "0.1.0"

# Bumped whenever a change to the sampler changes the trajectories it makes for a given seed.
GENERATOR_VERSION = 1
# Bumped whenever a change to training changes the model it makes from the same data and settings;
# it is among the training jobs' params, so the workflow retrains.
TRAINER_VERSION = 2
# Likewise for the code that turns a network into its ONNX file (export.py: weight storage, readout),
# that runs an ensemble (ensemble.py, members.py, tasks/: windows, combining, scale and clip,
# intervals.interval), and that fits the scale, the interval table and the temperatures
# (calibrate.py, intervals.py): each is among the params of the rules whose outputs it changes.
EXPORT_VERSION = 2
INFERENCE_VERSION = 1
CALIBRATION_VERSION = 1
# Likewise for how the population network is trained and what it reads (population_train.py:
# populations drawn, loss; population_net.FEATURES: 3 added the steps' statistics, 4 the shares' intervals).
POPULATION_VERSION = 4

from andiflow.api import (  # noqa: E402  (after the versions)
    load_ensemble,
    population,
    population_difference,
    predict,
    shipped_ensembles,
)

__all__ = ["load_ensemble", "population", "population_difference", "predict", "shipped_ensembles"]
