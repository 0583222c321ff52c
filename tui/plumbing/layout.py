"""How the dashboard's rows are shared at a terminal size: fixed parts first, the plot gets the rest.

The parts always add up to the terminal's height, so the screen never scrolls and no scrollbar
ever cuts the footer."""

from __future__ import annotations

FOOTER, NOTE = 1, 1
MIN_TOP = 5  # the plot and the names: a key line, a frame and at least two data rows


def fit_heights(width: int, height: int, status_rows: int) -> dict[str, int]:
    """Rows for each part (by widget id); 0 hides a part. `top` (plot and names) takes what is left."""
    status = max(1, min(status_rows, 3 if height >= 20 else 2))
    controls = 1 if height >= 16 else 0
    rest = height - FOOTER - NOTE - status - controls
    chart = min(max(round(rest * 0.33), 3), 24 if height >= 50 else 14)
    chart = max(min(chart, rest - MIN_TOP), 0)
    if chart < 3:  # too small to show bars: the plot keeps the rows
        chart = 0
    return {"controls": controls, "distribution": chart, "status": status, "note": NOTE,
            "top": max(rest - chart, 0)}
