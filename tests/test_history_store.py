"""The loss history's chunked store (engine.history: full chunks written to an unlinked temporary file)
gives the numbers a plain list gives: every loss, the moving average at any weight (set_weight across
written chunks included), slices, index arrays, resuming, exporting and the plot's buckets. Most tests
shrink the chunks to 64 values so that a few thousand steps cross dozens of them."""

from __future__ import annotations

import os
import sys
import tempfile
import threading

import numpy as np
import pytest

from engine import Config, Run, checkpoint
from engine import curve as curve_module
from engine import history as history_module
from engine.curve import CurveBuckets
from engine.export import COLUMNS, ExportRun, csv_rows
from engine.history import SMOOTHING, SMOOTHING_LEVELS, LossHistory, smooth, smooth_pieces


class PlainHistory:
    """The history as it was kept before the chunks: two lists, the average from smooth() over the
    whole list (at the start and at each new weight), then the recurrence for each appended step."""

    def __init__(self, values=(), weight: float = SMOOTHING):
        self.losses = [float(v) for v in values]
        self.set_weight(weight)

    def set_weight(self, w: float) -> None:
        ema, s = smooth(np.array(self.losses, dtype=np.float64), w)
        self.ema, self.s, self.w, self.wpow = ema.tolist(), s, w, w ** len(self.losses)

    def append(self, x: float) -> None:
        self.s = self.w * self.s + (1 - self.w) * x
        self.wpow *= self.w
        self.ema.append(self.s / (1 - self.wpow) if self.wpow != 1.0 else x)
        self.losses.append(x)


@pytest.fixture
def small(monkeypatch):
    """Chunks of 64 values, pieces of 200 (not a multiple: a piece starts inside a chunk)."""
    monkeypatch.setattr(history_module, "CHUNK_BITS", 6)
    monkeypatch.setattr(history_module, "CHUNK", 64)
    monkeypatch.setattr(history_module, "_MASK", 63)
    monkeypatch.setattr(history_module, "PIECE", 200)
    monkeypatch.setattr(curve_module, "PIECE", 200)
    return 64


def _values(n: int, seed: int = 0) -> list[float]:
    return (2.0 + np.random.default_rng(seed).random(n) * 1.5).tolist()


def _same(h: LossHistory, plain: PlainHistory) -> None:
    n = len(plain.losses)
    assert len(h) == n
    assert h.losses.tolist() == plain.losses and list(h.losses) == plain.losses
    assert h.ema.tolist() == plain.ema
    assert np.array_equal(np.asarray(h.losses), np.array(plain.losses))
    assert np.array_equal(h.ema.copy(), np.array(plain.ema))
    if n:
        assert h.last_ema == plain.ema[-1] and h.losses[-1] == plain.losses[-1] and h.ema[0] == plain.ema[0]
        assert h.mean_last(100) == float(np.mean(np.array(plain.losses)[-100:]))
        rng = np.random.default_rng(n)
        idx = rng.integers(0, n, size=50)
        assert h.losses[idx].tolist() == [plain.losses[i] for i in idx]
        assert h.ema[idx].tolist() == [plain.ema[i] for i in idx]
        for a, b in [(0, n), (n // 3, n - n // 5), (max(0, n - 70), n), (1, 2)] + [
                tuple(sorted(rng.integers(0, n + 1, size=2).tolist())) for _ in range(20)]:
            assert h.losses[a:b].tolist() == plain.losses[a:b] and h.ema[a:b].tolist() == plain.ema[a:b]
        assert h.losses[-65:].tolist() == plain.losses[-65:]
    else:
        assert np.isnan(h.last_ema) and np.isnan(h.mean_last(100))


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 128, 129, 5 * 64 + 17, 2000])
def test_appended_one_by_one_it_holds_what_a_list_holds(small, n):
    values = _values(n, n)
    h, plain = LossHistory(), PlainHistory()
    for v in values:
        h.append(v)
        plain.append(v)
    _same(h, plain)
    assert h.nbytes_in_memory <= 2 * 64 * 8  # one chunk of each series: the rest are in the file


@pytest.mark.parametrize("n", [0, 1, 64, 65, 5 * 64 + 17, 2000])
def test_a_resumed_history_holds_what_a_list_holds_and_goes_on_as_one(small, n):
    values = _values(n + 300, n)
    h, plain = LossHistory(values[:n]), PlainHistory(values[:n])
    _same(h, plain)
    for v in values[n:]:
        h.append(v)
        plain.append(v)
    _same(h, plain)


@pytest.mark.parametrize("w", [*SMOOTHING_LEVELS, 0.3, 0.9999])
def test_a_new_weight_across_written_chunks_gives_the_whole_lines_numbers(small, w):
    values = _values(64 * 40 + 29, 3)  # 40 chunks and a bit: the smoothing's own chunks straddle ours
    h, plain = LossHistory(), PlainHistory()
    for v in values[:2000]:
        h.append(v)
        plain.append(v)
    h.set_weight(w)
    plain.set_weight(w)
    _same(h, plain)
    assert h.weight == w
    for v in values[2000:]:
        h.append(v)
        plain.append(v)
    _same(h, plain)
    h.set_weight(0.98)
    plain.set_weight(0.98)
    _same(h, plain)


def test_at_the_real_chunk_size_too():
    n = 2 * history_module.CHUNK + 3
    values = _values(n, 9)
    h, plain = LossHistory(), PlainHistory()
    for v in values:
        h.append(v)
        plain.append(v)
    assert h.losses.tolist() == plain.losses and h.ema.tolist() == plain.ema
    h.set_weight(0.9)
    plain.set_weight(0.9)
    assert h.ema.tolist() == plain.ema
    assert h.nbytes_in_memory == 2 * history_module.CHUNK * 8


@pytest.mark.parametrize("w", [*SMOOTHING_LEVELS, 0.3])
@pytest.mark.parametrize("n", [1, 7, 4096, 4097, 20_000])
def test_smoothing_a_piece_at_a_time_gives_smooths_numbers(w, n):
    x = np.array(_values(n, n))
    whole, s = smooth(x, w)
    h = LossHistory(x)
    parts = list(smooth_pieces(h.losses, w))
    assert np.concatenate([p for p, _ in parts]).tolist() == whole.tolist() and parts[-1][1] == s


def test_a_reader_in_another_thread_never_sees_a_value_that_was_not_appended(small):
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # the threads take turns often: reads land between appends and spills
    values = np.array(_values(30_000, 5))
    h = LossHistory()
    bad: list[str] = []
    reads = [0]
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            reads[0] += 1
            n = len(h)  # first, as the screen does
            a = max(0, n - 150)
            try:
                got = h.losses[a:n]
                if not np.array_equal(got, values[a:n]):
                    bad.append(f"steps {a}..{n}")
                if n and h.losses[n - 1] != values[n - 1]:
                    bad.append(f"step {n}")
            except Exception as exc:  # noqa: BLE001 - said by the assertion below
                bad.append(f"steps {a}..{n}: {exc!r}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for v in values.tolist():
            h.append(v)
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(old_interval)
    assert bad == [] and reads[0] > 20


def test_when_a_chunk_cannot_be_written_it_stays_in_memory_and_nothing_is_lost(small, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    values = _values(1000, 2)
    h, plain = LossHistory(), PlainHistory()
    for v in values:
        h.append(v)
        plain.append(v)
    _same(h, plain)
    assert h.nbytes_in_memory >= 2 * 1000 * 8


def test_the_temporary_file_has_no_name_left_behind(small, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    h = LossHistory(_values(1000, 4))
    assert h.nbytes_in_memory <= 2 * 64 * 8 and os.listdir(tmp_path) == []


def _buckets_by_hand(losses: list[float], ema: list[float], edges: np.ndarray, taken: int):
    out = []
    for b in range(len(edges) - 1):
        seg = losses[edges[b] : min(edges[b + 1], taken)]
        end = min(edges[b + 1], taken)
        out.append((min(seg), max(seg), ema[end - 1]) if seg else None)
    return out


@pytest.mark.parametrize("width", [7, 64, 301])
def test_the_plots_buckets_read_from_written_chunks_as_from_a_list(small, width):
    values = _values(3001, width)
    h, plain = LossHistory(), PlainHistory()
    b = CurveBuckets(3001, width)
    rng = np.random.default_rng(width)
    at = 0
    while at < len(values):
        for v in values[at : at + int(rng.integers(1, 400))]:
            h.append(v)
            plain.append(v)
        at = len(h)
        b.update(h, None)
        fresh = CurveBuckets(3001, width)  # a new width or weight: everything read again, a piece at a time
        fresh.update(h, None)
        want = _buckets_by_hand(plain.losses, plain.ema, b.edges, at)
        for buckets in (b, fresh):
            got = [(buckets.lo[k], buckets.hi[k], buckets.ema[k]) if want[k] is not None else None
                   for k in range(buckets.current + 1)]
            assert got == want[: buckets.current + 1]


def test_a_trained_run_saves_resumes_and_exports_its_losses_exactly(small, tmp_path):
    run = Run.new(Config(num_steps=700, learning_rate=0.5))
    run.track_exact(points=50)
    plain = PlainHistory()
    gen = run.steps()
    for _ in range(650):
        rec = next(gen)
        plain.append(rec.loss)
    _same(run.history, plain)
    path = checkpoint.save(tmp_path / "c.npz", run.to_checkpoint())
    back = Run.resume(path)
    _same(back.history, PlainHistory(plain.losses))
    rows = list(csv_rows(ExportRun.of_run(run, "embedded names")))
    step, loss, ema = (COLUMNS.index(name) for name in ("step", "loss", "moving_avg"))
    by_step = {int(r[step]): r for r in rows}
    assert [float(by_step[s][loss]) for s in range(1, 651)] == plain.losses
    assert [float(by_step[s][ema]) for s in range(1, 651)] == plain.ema


def test_the_dashboards_metrics_csv_reads_every_loss_across_written_chunks(small):
    from tui.plumbing.saving import metrics_csv

    run = Run.new(Config(num_steps=400))
    plain = PlainHistory()
    for rec in run.steps():
        plain.append(rec.loss)
    rows = metrics_csv(run, 150).splitlines()
    assert rows[0] == "step,loss,lr" and len(rows) == 1 + 250
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(151, 401))
    assert [float(r.split(",")[1]) for r in rows[1:]] == plain.losses[150:]
