"""The race (engine.race): K variants stepped in lockstep as one block, each exactly its solo run:
per-step losses to 1e-9 (relative), the same rates and names, the same samples, a checkpoint that
resumes as a solo run; a diverging variant stops and the others go on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import train_losses

from engine import Config, ConfigError, Run
from engine.race import (
    MAX_VARIANTS,
    READY_RACES,
    Race,
    page_base,
    put_back,
    race_axis,
    race_configs,
    race_spec,
    race_text,
    ready_race_of,
)

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "zoe", "li", "bob", "anna",
        "christopher", "x", "maximilian", "jo"]


def _race_records(race: Race) -> list[list[tuple[float, float, str]]]:
    rows: list[list[tuple[float, float, str]]] = [[] for _ in race.runs]
    for records in race.steps():
        assert len(records) == len(race.runs)
        for k, rec in enumerate(records):
            if rec is not None:
                rows[k].append((rec.loss, rec.lr, rec.doc))
    return rows


def _assert_equals_solo(race: Race, data, rows) -> None:
    for variant, row, run in zip(race.variants, rows, race.runs):
        solo = Run.new(variant.config, data)
        expected = [(rec.loss, rec.lr, rec.doc) for rec in solo.steps()]
        assert len(row) == len(expected) == variant.config.num_steps
        assert [r[1:] for r in row] == [e[1:] for e in expected]  # the same rates and names, step by step
        got, want = np.array([r[0] for r in row]), np.array([e[0] for e in expected])
        assert np.all(np.abs(got - want) <= 1e-9 * np.abs(want)), variant.label
        assert np.allclose(run.model.theta, solo.model.theta, rtol=0, atol=1e-9)
        assert run.history.losses.tolist() == [r[0] for r in row] and run.step == solo.step
        assert run.sample() == solo.sample()


def test_a_learning_rate_race_equals_four_solo_runs():
    variants = race_configs(Config(num_steps=400), [race_axis("lr=0.25,0.5,1,2")])
    race = Race.new(variants)  # the embedded names
    rows = _race_records(race)
    assert race.finished and race.step == 400
    _assert_equals_solo(race, None, rows)
    finals = [row[-1][0] for row in rows]
    assert len(set(finals)) == 4  # four different runs, not one copied


def test_seeds_shapes_schedules_and_gradients_race_together_each_its_own_run():
    axes = [race_axis("seed=1,2"), race_axis("n-embd=3,8"), race_axis("gradient=name,data"),
            race_axis("schedule=constant,cosine")]
    variants = race_configs(Config(num_steps=60, learning_rate=0.6), axes)
    assert len(variants) == 16
    race = Race.new(variants, DOCS)
    assert len(race.groups) == 4  # (n_embd, gradient): each group one block
    assert sorted(len(g.runs) for g in race.groups) == [4, 4, 4, 4]
    rows = _race_records(race)
    _assert_equals_solo(race, DOCS, rows)
    # each seed its own name order
    assert [r[2] for r in rows[0][:16]] != [r[2] for r in rows[8][:16]]


def test_a_hidden_width_race():
    variants = race_configs(Config(num_steps=50, n_embd=4), [race_axis("hidden=2,5,9")])
    race = Race.new(variants, DOCS)
    assert [r.model.hidden for r in race.runs] == [2, 5, 9] and len(race.groups) == 3
    _assert_equals_solo(race, DOCS, _race_records(race))


def test_a_name_longer_than_a_chunk_is_still_exact():
    docs = [*DOCS[:5], "ab" * 2500]  # 5,001 positions: more than engine.model.CHUNK
    variants = race_configs(Config(num_steps=18, n_embd=4, learning_rate=0.3), [race_axis("seed=3,4")])
    race = Race.new(variants, docs)
    rows = _race_records(race)
    assert any(len(doc) == 5000 for row in rows for _, _, doc in row)
    _assert_equals_solo(race, docs, rows)


def test_a_long_name_with_rows_not_a_whole_number_of_embedding_rows():
    # the block's rows are P rounded up to whole n_embd-wide rows (engine.race._Group); a name longer
    # than a chunk is stepped one model at a time, into its own row
    docs = [*DOCS[:5], "ab" * 2500]
    variants = race_configs(Config(num_steps=12, n_embd=7, hidden=5, learning_rate=0.3),
                            [race_axis("seed=3,4")])
    race = Race.new(variants, docs)
    assert race.groups[0].width != race.runs[0].model.num_params  # the case this test is for
    rows = _race_records(race)
    assert any(len(doc) == 5000 for row in rows for _, _, doc in row)
    _assert_equals_solo(race, docs, rows)


def test_a_diverging_variant_stops_with_finite_weights_and_the_others_go_on():
    variants = race_configs(Config(num_steps=300, schedule="constant"), [race_axis("lr=0.5,1000")])
    race = Race.new(variants, DOCS)
    calm, wild = race.runs
    rows: list[list[tuple[float, float, str]]] = [[], []]
    frozen = None
    for records in race.steps():
        for k, rec in enumerate(records):
            if rec is not None:
                rows[k].append((rec.loss, rec.lr, rec.doc))
        if records[1] is not None and records[1].diverged:
            frozen = wild.model.theta.copy()  # the weights it stopped with
    assert wild.diverged_at is not None and wild.diverged_at < 300
    assert len(rows[1]) == wild.diverged_at + 1 and not np.isfinite(rows[1][-1][0])
    assert np.isfinite(wild.model.theta).all() and wild.step == wild.diverged_at
    assert calm.diverged_at is None and len(rows[0]) == 300 and race.finished
    solo = Run.new(variants[0].config, DOCS)
    want = np.array(train_losses(solo))
    assert np.all(np.abs(np.array([r[0] for r in rows[0]]) - want) <= 1e-9 * want)
    # the stopped variant's weights are those it stopped with: the race wrote no more into them
    assert frozen is not None and np.array_equal(frozen, wild.model.theta) and wild.finished


def test_a_diverging_variant_is_its_solo_run_up_to_the_step_it_diverges():
    # rates 3 .. 8 on the embedded names: each loss grows past 1e100 before it is NaN; in that regime
    # the smallest difference in how a step adds up grows until a tie in the softmax flips
    variants = race_configs(Config(), [race_axis("lr=3,4,5,6,8")])
    race = Race.new(variants)
    rows = _race_records(race)
    assert race.finished and all(run.diverged_at is not None for run in race.runs)
    for variant, row, wild in zip(variants, rows, race.runs):
        _assert_diverged_as_solo(variant, row, wild)


def _assert_diverged_as_solo(variant, row, wild) -> None:
    solo = Run.new(variant.config)
    want = np.array(train_losses(solo))
    got = np.array([r[0] for r in row])
    assert wild.diverged_at is not None and wild.diverged_at == solo.diverged_at, variant.label
    assert len(got) == len(want) == wild.diverged_at + 1 and not np.isfinite(got[-1])
    assert want[:-1].max() > 1e100  # it went through the regime this test is for
    assert np.all(np.abs(got[:-1] - want[:-1]) <= 1e-9 * want[:-1]), variant.label
    theta = np.abs(solo.model.theta)
    assert np.abs(wild.model.theta - solo.model.theta).max() <= 1e-9 * theta.max()  # frozen where the solo stopped


def test_a_variants_checkpoint_resumes_as_a_solo_run(tmp_path):
    variants = race_configs(Config(num_steps=80), [race_axis("seed=5,6"), race_axis("lr=0.5,1.5")])
    race = Race.new(variants, DOCS)
    steps = race.steps()
    for _ in range(30):
        next(steps)
    path = race.runs[2].save(tmp_path / "v3.npz")  # seed 6, lr 0.5
    resumed = Run.resume(path, DOCS)
    assert resumed.config == variants[2].config and resumed.step == 30
    tail = train_losses(resumed)
    solo = Run.new(variants[2].config, DOCS)
    want = np.array(train_losses(solo))
    got = np.array(resumed.history.losses)
    assert len(tail) == 50 and np.all(np.abs(got - want) <= 1e-9 * want)
    assert resumed.sample() == solo.sample()


def test_a_rate_changed_mid_race_moves_that_variant_only():
    variants = race_configs(Config(num_steps=40), [race_axis("lr=0.5,1")])
    race = Race.new(variants, DOCS)
    lrs: list[list[float]] = [[], []]
    for records in race.steps():
        for k, rec in enumerate(records):
            lrs[k].append(rec.lr)
        if records[0].step == 19:
            race.runs[1].set_lr_base(0.25)
    assert lrs[0] == [0.5 * (1 - s / 40) for s in range(40)]
    assert lrs[1][:20] == [1.0 * (1 - s / 40) for s in range(20)]
    assert lrs[1][20:] == [0.25 * (1 - s / 40) for s in range(20, 40)]
    assert race.runs[1].lr_changes == [(0, 1.0), (20, 0.25)]


# --- what is raced ------------------------------------------------------------------------------------
def test_variants_are_every_combination_the_first_setting_slowest():
    variants = race_configs(Config(), [race_axis("lr=0.5,1"), race_axis("seed=1,2,3")])
    assert [v.number for v in variants] == [1, 2, 3, 4, 5, 6]
    assert [v.label for v in variants] == ["lr 0.5, seed 1", "lr 0.5, seed 2", "lr 0.5, seed 3",
                                           "lr 1.0, seed 1", "lr 1.0, seed 2", "lr 1.0, seed 3"]
    assert [(v.config.learning_rate, v.config.seed) for v in variants] == [
        (0.5, 1), (0.5, 2), (0.5, 3), (1.0, 1), (1.0, 2), (1.0, 3)]
    widths = race_configs(Config(), [race_axis("n-embd=4,64")])
    assert [v.config.hidden_size for v in widths] == [16, 256]  # the hidden width follows 4 x n_embd


@pytest.mark.parametrize(("texts", "message"), [
    (["lr=1,2", "seed=1,2,3,4,5,6,7,8,9"], f"--race makes 2 x 9 = 18 variants; at most {MAX_VARIANTS} race at once"),
    (["depth=1,2"], "SETTING one of lr, seed, n-embd, hidden, schedule, gradient; got 'depth=1,2'"),
    (["lr"], "--race takes SETTING=V1,V2,..."),
    (["lr="], "--race lr= needs values separated by commas"),
    (["lr=1,,2"], "--race lr= needs values separated by commas"),
    (["lr=1,fast"], "--race lr: 'fast' is not a number"),
    (["seed=1.5,2"], "--race seed: '1.5' is not a whole number"),
    (["schedule=linear,step"], "--race schedule: 'step' is not one of linear, constant, cosine"),
    (["lr=1,1"], "--race lr: a value is given twice"),
    (["lr=1,2", "lr=3,4"], "--race lr is given twice"),
    (["lr=0.5"], "--race needs at least two variants"),
    (["lr=1,-2"], "--race variant 2: --lr must be a finite number > 0, got -2.0"),
    (["n-embd=4,0"], "--race variant 2: --n-embd must be a whole number > 0, got 0"),
])
def test_bad_races_are_refused_with_one_line(texts, message):
    with pytest.raises(ConfigError) as info:
        race_configs(Config(), [race_axis(t) for t in texts])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_standings_rank_by_the_whole_data_loss_a_slow_count_gives():
    from engine.race import standings

    variants = race_configs(Config(num_steps=120), [race_axis("lr=0.05,0.5,2,400")])
    race = Race.new(variants, DOCS)
    for run in race.runs:
        run.track_exact()
    for _ in race.steps():
        pass
    table = standings(race)
    assert [s.number for s in table][-1] == 4 and table[-1].diverged_at is not None  # lr 400 diverged: last

    def slow_whole(run: Run) -> float:  # every position of every name, one at a time
        total, n = 0.0, 0
        for i in range(len(run.dataset)):
            tokens = run.dataset.doc_tokens(i)
            total += run.model.loss(tokens) * (len(tokens) - 1)
            n += len(tokens) - 1
        return total / n

    finite = [s for s in table if s.diverged_at is None]
    assert [s.whole for s in finite] == sorted(s.whole for s in finite)
    for s in finite:
        assert s.whole == pytest.approx(slow_whole(race.runs[s.number - 1]), rel=1e-12)
        assert s.step == 120 and s.label == variants[s.number - 1].label


def test_a_race_written_on_one_line():
    from engine.race import race_spec

    assert race_spec("lr=0.5,1 seed=1,2") == [("lr", [0.5, 1.0]), ("seed", [1, 2])]
    assert race_spec("gradient=name,data; schedule=linear,cosine") == [
        ("gradient", ["name", "data"]), ("schedule", ["linear", "cosine"])]
    with pytest.raises(ConfigError, match="a race needs at least one SETTING"):
        race_spec("  ")


def test_a_variants_live_curves_are_its_moving_average_and_measured_losses():
    from engine.race import variant_curves

    race = Race.new(race_configs(Config(num_steps=100), [race_axis("seed=1,2")]), DOCS)
    run = race.runs[1]
    run.track_exact()
    steps = race.steps()
    for _ in range(40):
        next(steps)
    ema, exact, _ = variant_curves(run).lines(np.array([10, 40, 41]))
    assert ema[0] == run.history.ema[9] and ema[1] == run.history.ema[39]
    assert np.isnan(ema[2]) and np.isnan(exact[2])  # beyond the steps taken
    assert exact[1] == pytest.approx(run.dataset_loss(), rel=1e-12)  # measured after step 40


@pytest.mark.parametrize("spec", ["lr=0.25,0.5,1,2", "seed=1,2 lr=0.5,1", "lr=0.5,1 seed=1,2,3", "lr=1e-05,100",
                                  "schedule=linear,constant gradient=name,data", "n-embd=4,8,16 hidden=16,64",
                                  "gradient=data,name seed=3,1,2"])
def test_a_race_written_back_from_its_variants_makes_the_same_variants_in_the_same_order(spec):
    base = Config(num_steps=50)
    variants = race_configs(base, race_spec(spec))
    text = race_text(variants)
    assert text == spec  # as a learner writes it: the settings in their order, 1 not 1.0
    again = race_configs(base, race_spec(text))
    assert [(v.number, v.config, v.label) for v in again] == [(v.number, v.config, v.label) for v in variants]


def test_a_ready_race_is_known_however_it_was_started():
    """Typed in the race field or given to --race with the very values of a ready race, it is that ready
    race (view 8 then says what to look for); other values, another order or a setting more: not."""
    base = Config(num_steps=100, learning_rate=0.3, seed=7)
    for ready in READY_RACES:
        assert ready_race_of(race_configs(base, race_spec(ready[1]))) == ready
    assert ready_race_of(race_configs(base, race_spec("lr=0.1,0.2,0.5,1,2"))) is None
    assert ready_race_of(race_configs(base, race_spec("lr=5,2,1,0.5,0.2,0.1"))) is None
    assert ready_race_of(race_configs(base, race_spec("seed=1,2,3,4,5,6,7,8 lr=0.5,1"))) is None


def test_a_ready_race_takes_the_pages_rate_sizes_schedule_and_gradient_unless_it_races_them():
    """QA: after a run at lr 8 with n_embd 4, every variant of "decay vs constant" diverged. A ready race
    takes the page's settings that decide how training goes; the data, steps, seed and sampling stay."""
    page = Config()
    current = Config(num_steps=300, learning_rate=8.0, n_embd=4, hidden=16, seed=43, schedule="cosine",
                     gradient="data", temperature=0.9)
    for _, spec, _ in READY_RACES:
        axes = race_spec(spec)
        base = page_base(current, axes)
        raced = {name for name, _ in axes}
        for variant in race_configs(base, axes):
            c = variant.config
            assert (c.num_steps, c.temperature) == (300, 0.9) and c.seed == (c.seed if "seed" in raced else 43)
            assert c.learning_rate == (c.learning_rate if "lr" in raced else page.learning_rate)
            assert c.n_embd == (c.n_embd if "n-embd" in raced else page.n_embd)
            assert c.hidden_size == 4 * c.n_embd  # the page's hidden width (none of the ready races races it)
            assert c.schedule == (c.schedule if "schedule" in raced else "linear")
            assert c.gradient == (c.gradient if "gradient" in raced else "name")
    base = page_base(current, race_spec("schedule=linear,constant"))
    assert put_back(current, base) == ["lr 1.0", "n_embd 16", "hidden 4 x n_embd", "one-name gradient"]
    assert put_back(page, page_base(page, race_spec("seed=1,2"))) == []


@pytest.mark.parametrize("data", ["embedded", "tutorial"])
def test_what_each_ready_race_says_to_look_for_holds_on_both_name_lists(data, request):
    """The texts a learner reads in view 8 and the palette, checked against the races themselves, trained
    1,000 steps from the page's settings on the embedded names and the tutorial's (QA: the gradient race
    said the one-name curve 'wobbles around' the whole-data one; it stays above it and ends higher)."""
    docs = None if data == "embedded" else str(request.getfixturevalue("shared_names"))
    finals = {}
    for _, spec, look in READY_RACES:
        if spec.startswith("seed"):
            continue  # "how much runs vary by chance alone": no claim to check
        race = Race.new(race_configs(page_base(Config(), race_spec(spec)), race_spec(spec)), docs)
        for _ in race.steps():
            pass
        finals[spec] = [math.nan if r.diverged_at is not None else r.dataset_loss() for r in race.runs]
        if spec.startswith("gradient"):  # one name vs the whole data
            one, whole = (np.asarray(r.history.ema.head(r.step)) for r in race.runs)
            assert "mostly above" in look and "ends higher" in look
            assert np.mean(one[100:] > whole[100:]) > 0.5  # mostly above, after the start
            assert finals[spec][0] > finals[spec][1]  # and ends higher
        floor = race.runs[0].reference.floor
        assert all(f > floor for f in finals[spec] if f == f)  # nothing learns past the bigram table
    linear, constant = finals["schedule=linear,constant"]
    assert constant > linear  # "at a constant rate it keeps jumping about and ends higher"
    rates = finals["lr=0.1,0.2,0.5,1,2,5"]
    assert math.isnan(rates[-1]) and rates[0] == max(rates[:-1])  # 5 diverges; 0.1 learns slowest
    widths = finals["n-embd=4,8,16,32,64"]
    assert widths[-1] < widths[0]  # "the wider ones get a little closer" to the floor


def test_finished_is_every_variant_stopped_at_every_step():
    """Race.finished reads the step and the groups (a step's cheap test in the dashboard's loop): it says
    what `not any(running)` says, through a race where one variant diverges and the others go on."""
    race = Race.new(race_configs(Config(num_steps=60), race_spec("lr=0.5,50")))
    assert race.finished == (not any(race.running))
    for _ in race.steps():
        assert race.finished == (not any(race.running))
    assert race.finished and race.runs[1].diverged_at is not None
