"""Tutorial-exactness: the engine against a plain-Python implementation of the tutorial's program."""

from pathlib import Path

import numpy as np
from tutorial_reference import run_tutorial

from engine import Config, Run, embedded_names_path


def _engine(path: Path, steps: int = 1000, **kw) -> tuple[list[float], list[str]]:
    run = Run.new(Config(num_steps=steps, **kw), path)
    losses = [rec.loss for rec in run.steps()]
    return losses, run.sample()


def _check(path: Path, **kw) -> None:
    ref_losses, ref_samples = run_tutorial(path.read_text(encoding="utf-8"), **kw)
    losses, samples = _engine(path, kw.get("num_steps", 1000))
    assert len(losses) == len(ref_losses)
    assert np.abs(np.array(losses) - np.array(ref_losses)).max() <= 1e-9
    assert samples == ref_samples


def test_embedded_names_match_the_tutorial_program():
    _check(embedded_names_path())


def test_shared_names_match_the_tutorial_program(shared_names):
    _check(shared_names)


def test_shared_names_first_document_is_the_tutorials_example(shared_names):
    run = Run.new(Config(), shared_names)
    assert run.dataset.docs[0] == "yuheng"  # page 1.8's example; it fixes the seed at 42
    assert run.model.num_params == 3184


def test_mixed_characters_and_crlf_match_the_tutorial_program(mixed_file):
    _check(mixed_file, num_steps=60)
    run = Run.new(Config(), mixed_file)
    assert " " in run.dataset.uchars and "ë" in run.dataset.uchars and "\r" not in run.dataset.uchars
