"""micromlp-tui's engine: the tutorial's one-token-context MLP, trained by SGD, in numpy.

    from engine import Config, Run
    run = Run.new(Config(num_steps=1000))       # the embedded names, seed 42
    for record in run.steps():                  # one SGD step per record
        pass
    print(run.dataset_loss(), run.sample())
"""

from engine.checkpoint import Checkpoint
from engine.config import Config
from engine.dataset import Dataset
from engine.errors import CheckpointError, ConfigError, DataError, MicroMLPError
from engine.history import LossHistory
from engine.model import Model, numerical_grad
from engine.printable import printable
from engine.reference import Reference, random_guess_loss
from engine.run import Run, embedded_names_path
from engine.runs import RunRegistry, RunSummary, describe_difference
from engine.sampling import Sampler, next_token_probs, sample_names, sample_names_from_grid, uniform_grid
from engine.train import LrSchedule, StepRecord, lr_at, train

__all__ = [
    "Checkpoint", "CheckpointError", "Config", "ConfigError", "DataError", "Dataset", "LossHistory",
    "LrSchedule", "MicroMLPError", "Model", "Reference", "Run", "RunRegistry", "RunSummary", "Sampler",
    "StepRecord", "describe_difference", "embedded_names_path", "lr_at", "next_token_probs", "numerical_grad",
    "printable", "random_guess_loss", "sample_names", "sample_names_from_grid", "train", "uniform_grid",
]
