"""The status line: what the run is doing, in words a person (and a terminal check) can read."""

from __future__ import annotations

import math

from textual.widgets import Static


def figure(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "--"


def clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class StatusLine(Static):
    """Redrawn every frame; asks for a (costly, whole-screen) layout only when it needs more or
    fewer lines."""

    _rows = 0

    def show(self, *, state: str, step: int, total: int, lr: float, ema: float, exact: float,
             rate: float, elapsed: float, temperature: float, speed: str, params: int, note: str) -> None:
        eta = (total - step) / rate if rate > 0 else math.inf
        parts = [
            f"[b]{state}[/b]", f"step {step}/{total}", f"lr {lr:.4f}", f"smoothed loss {figure(ema)}",
            f"whole-data loss {figure(exact)}", f"{rate:,.0f} steps/s", f"elapsed {clock(elapsed)}",
            f"ETA {clock(eta) if state == 'running' else '--:--'}", f"temperature {temperature:.2f}",
            f"speed {speed}", f"{params:,} params",
        ]
        text = " │ ".join(parts)
        width = max(self.content_size.width, 1)
        rows = -(-len(text) // width) + (-(-len(note) // width) if note else 0)  # lines it wraps to, about
        self.update(text + (f"\n{note}" if note else ""), layout=rows != self._rows)
        self._rows = rows
