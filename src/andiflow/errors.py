"""What andiflow reports to its user as one message (file, line or key, and what was expected) rather
than a traceback. Kept free of torch and h5py so that the command line can catch them cheaply."""


class AndiflowError(Exception):
    """Base of every error the command line reports as `andiflow: error: ...` with exit status 2."""


class InputFileError(AndiflowError, ValueError):
    """A file of trajectories, tracks, predictions or references that cannot be read as one."""


class SettingsError(AndiflowError, ValueError):
    """A configuration (or command-line setting) that is invalid or impossible."""


class ShardError(AndiflowError, RuntimeError):
    """A training shard that is missing, truncated or malformed."""


class ModelFileError(AndiflowError, RuntimeError):
    """A model checkpoint or ensemble manifest that cannot be used."""
