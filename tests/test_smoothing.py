"""The moving average's smoothing is the learner's to set: TensorBoard's debiased EMA, recomputed for
the whole history, equal to the obvious one-value-at-a-time recurrence."""

from __future__ import annotations

import numpy as np
import pytest

from engine import LossHistory
from engine.history import SMOOTHING_LEVELS, smooth


def slow_smooth(values: list[float], w: float) -> list[float]:
    """TensorBoard's: last = last * w + (1 - w) * x; shown / (1 - w^count)."""
    last, out = 0.0, []
    for i, x in enumerate(values):
        last = last * w + (1 - w) * x
        out.append(last / (1 - w ** (i + 1)) if w else x)
    return out


@pytest.mark.parametrize("w", [*SMOOTHING_LEVELS, 0.3, 0.9999])
@pytest.mark.parametrize("n", [1, 2, 7, 5000, 20_000])
def test_the_vectorised_smoothing_equals_the_recurrence(w, n):
    values = (3 + np.random.default_rng(n).standard_normal(n)).tolist()
    got, _ = smooth(np.array(values), w)
    np.testing.assert_allclose(got, slow_smooth(values, w), rtol=1e-10, atol=0)


def test_the_first_value_is_itself_at_any_weight():
    for w in SMOOTHING_LEVELS:
        assert smooth(np.array([2.5, 9.0]), w)[0][0] == pytest.approx(2.5, abs=1e-15)


def test_a_new_weight_recomputes_the_whole_line_and_appending_goes_on_from_it():
    values = (3 + np.random.default_rng(1).standard_normal(3000)).tolist()
    h = LossHistory()
    for v in values[:2000]:
        h.append(v)
    h.set_weight(0.9)
    np.testing.assert_allclose(h.ema, slow_smooth(values[:2000], 0.9), rtol=1e-10)
    for v in values[2000:]:
        h.append(v)
    np.testing.assert_allclose(h.ema, slow_smooth(values, 0.9), rtol=1e-10)
    assert h.last_ema == h.ema[-1] and h.weight == 0.9
    with pytest.raises(ValueError):
        h.set_weight(1.0)


def test_no_smoothing_is_the_losses_themselves():
    h = LossHistory([3.0, 1.0, 2.0], weight=0.0)
    h.append(5.0)
    assert h.ema.tolist() == [3.0, 1.0, 2.0, 5.0]
