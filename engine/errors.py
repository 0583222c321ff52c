"""The errors the engine raises for bad input: each carries a one-line message for a person."""


class MicroMLPError(ValueError):
    """Base class: something the user gave us (data, flags, a checkpoint) cannot be used."""


class ConfigError(MicroMLPError):
    """A setting is out of range (steps <= 0, a temperature of 0, sizes too large, ...)."""


class DataError(MicroMLPError):
    """The training data cannot be read or holds no usable document."""


class CheckpointError(MicroMLPError):
    """A checkpoint is missing, damaged, or does not fit the data or settings."""


class OutputError(MicroMLPError):
    """An output path (--save, --metrics, the dashboard's save) cannot or must not be written."""
