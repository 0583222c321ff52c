"""A race in the dashboard: which variants' lines the plot draws, the variant the screen shows (v / V, a
click in view 8), and a race started from the palette's ready races or the settings form's race field.

It acts on the app through `RacingHost`, the few things it needs of it, so this module never imports the
app (the app owns a `Racing` and routes the keys to it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from engine import Config, Run
from engine.errors import MicroMLPError
from engine.race import READY_RACES, Race, page_base, put_back, race_configs, race_spec, variant_curves
from engine.runs import EmaGrid
from tui.plumbing.line_colours import colour_of
from tui.plumbing.plot_render import Ghost
from tui.plumbing.training_loop import TrainingLoop

RACE_VIEW = 8  # the lower panel's view that ranks the variants


class RacingHost(Protocol):
    """What a race needs of the app."""

    race: Race | None
    loop: TrainingLoop
    training: Run
    data: str | None
    temperature: float

    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def replace_run(self, run: Run | Race, note: str, data: str | None = None,
                    new_data: bool = False) -> Coroutine[Any, Any, None]: ...
    def show_picked(self, heading: str) -> None: ...
    def action_view(self, number: int) -> None: ...


class Racing:
    def __init__(self, host: RacingHost, width: Callable[[], int]):
        self.host = host
        self._width = width  # the screen's width, looked up when needed (it changes)
        self._grids: tuple[Race, list[EmaGrid]] | None = None  # the race on show and each variant's EmaGrid

    @property
    def lines(self) -> int:
        """How many variants' lines the plot draws (and always the picked one): 8 on a wide screen, 4 on a
        narrow one (more do not stay readable); the others are in view 8 only."""
        return 8 if self._width() >= 100 else 4

    def drawn_variants(self) -> tuple[int, ...]:
        """The numbers of the variants whose lines are on the plot (the picked one is the main line): all
        when they fit, else `lines` of them spread evenly from the first to the last, so that both ends of
        a race's range are drawn (rates 0.1 .. 5: the lowest and the one that diverges), with the leader
        (the lowest whole-data loss, as view 8 ranks them) in place of the middle one nearest to it: the
        plot never hides the race's best (QA: at 80x24 lr 2 led, undrawn, and lr 1 looked best)."""
        race = self.host.race
        if race is None:
            return ()
        k, n = len(race.variants), self.lines
        numbers = list(range(1, k + 1)) if k <= n else sorted({1 + round(i * (k - 1) / (n - 1)) for i in range(n)})
        leader = next((s.number for s in self.host.loop.snapshot.standings
                       if s.diverged_at is None and s.whole == s.whole), None)  # ranked: the first finite one
        if leader is not None and leader not in numbers and len(numbers) > 2:
            nearest = min(numbers[1:-1], key=lambda v: (abs(v - leader), v))
            numbers = sorted({*numbers, leader} - {nearest})
        return tuple(numbers) + (self.host.loop.picked + 1,)

    def variant_lines(self) -> tuple[Ghost, ...]:
        """Every other drawn variant's moving average, in its colour, labelled by its number and what differs."""
        race = self.host.race
        if race is None:
            self._grids = None  # (a race replaced is let go)
            return ()
        if self._grids is None or self._grids[0] is not race:
            self._grids = (race, [EmaGrid(run.config.num_steps) for run in race.runs])
        drawn, picked = self.drawn_variants(), self.host.loop.picked + 1
        return tuple(Ghost(f"{v.number} {v.label}", variant_curves(run, grid), colour_of(v.number), variant=True)
                     for v, run, grid in zip(race.variants, race.runs, self._grids[1])
                     if v.number in drawn and v.number != picked)

    async def next_variant(self, delta: int) -> None:
        race = self.host.race
        if race is not None:
            await self.pick_variant((self.host.loop.picked + delta) % len(race.runs))

    async def pick_variant(self, index: int) -> None:
        """Show variant `index` (0-based): its names, next-token chart, views and its line as the main one."""
        h = self.host
        race, loop = h.race, h.loop
        if race is None or not 0 <= index < len(race.runs) or index == loop.picked:
            return
        loop.pick(index)
        for _ in range(200):  # the worker switches between two steps: within STEP_TIME (0.05 s)
            if loop.picked == index or loop is not h.loop:
                break
            await asyncio.sleep(0.002)
        if loop is not h.loop or loop.picked != index:  # a new run (or race) came meanwhile
            return
        v = race.variants[index]
        h.show_picked(f"variant {v.number}: {v.label}")
        wild = race.runs[index].diverged_at
        h.set_note(f"showing variant {v.number} ({v.label}): its names, next-token chart and views"
                   if wild is None else f"showing variant {v.number} ({v.label}): it diverged at step {wild + 1:,}, "
                   "so it draws no names; its chart and views show its last finite weights")

    async def start(self, spec: str, config: Config | None = None) -> None:
        """A new race of `config` (default: the current settings) with `spec` raced ("lr=0.5,1 seed=1,2")."""
        h = self.host
        base = config or h.training.config.with_(temperature=h.temperature)
        try:
            variants = race_configs(base, race_spec(spec))
            race = Race.new(variants, h.data)
        except MicroMLPError as exc:
            h.set_note(f"race not started: {exc}", sticky=True)
            return
        await h.replace_run(race, f"a race of {len(variants)} variants: {spec}")
        h.action_view(RACE_VIEW)

    async def ready_race(self, index: int) -> None:
        """One of the palette's ready races (engine.race.READY_RACES), with a note on what to look at.
        It starts from the current settings but with the tutorial's learning rate, sizes, schedule and
        gradient, unless it races them (engine.race.page_base); the note says so when that changed what the run used."""
        title, spec, look = READY_RACES[index]
        current = self.host.training.config.with_(temperature=self.host.temperature)
        base = page_base(current, race_spec(spec))
        await self.start(spec, base)
        if self.host.race is not None:
            back = put_back(current, base)
            listed = " and ".join([", ".join(back[:-1]), back[-1]] if len(back) > 1 else back)
            since = f" (from the page's {listed})" if back else ""
            self.host.set_note(f"{title}{since}: {look}", sticky=True)
