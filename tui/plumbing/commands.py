"""The command palette's entries (ctrl+p): every action of the keys as "group: action", each run
through the same action as its key, so that the palette and the keys can never disagree."""

from __future__ import annotations

from engine.race import READY_RACES
from tui.views.panel import VIEWS

COMMANDS: list[tuple[str, str, str]] = [  # (title, what it does and its key, the app action)
    ("Training: run / pause", "space: start or pause training", "toggle_training"),
    ("Training: one step", ".: one SGD step while paused", "step"),
    ("Training: reset", "r: the same run again from step 0", "reset"),
    ("Training: new seed", "n: a new run with the next seed", "new_seed"),
    ("Training: faster", "]: more steps per second", "speed(1)"),
    ("Training: slower", "[: fewer steps per second", "speed(-1)"),
    ("Training: save a checkpoint", "s: to --save, or micromlp-checkpoint.npz here", "save"),
    ("Training: export runs and plot", "e: the session's runs to micromlp-runs.csv, the loss plot to "
     "micromlp-plot.svg (beside --save, or here; the picture at --plot if given)", "export"),
    ("Training: settings", "o: learning rate, steps, sizes, seed, samples, hold-out, lr schedule, gradient, data, "
     "race; a new run", "settings"),
    ("Training: halve the learning rate", "<: from the next step on; after a divergence, a new run at half the rate",
     "scale_lr(0.5)"),
    ("Training: double the learning rate", ">: from the next step on", "scale_lr(2)"),
    ("Sampling: temperature up", "+: by 0.1", "temperature(1)"),
    ("Sampling: temperature down", "-: by 0.1", "temperature(-1)"),
    ("Sampling: top-k fewer tokens", "t: draw from fewer of the likeliest next tokens (20, 10, 5, 3, 2, 1)",
     "top_k(-1)"),
    ("Sampling: top-k more tokens", "T: draw from more of the likeliest next tokens, up to off (every token)",
     "top_k(1)"),
    ("Sampling: new names", "g: a new batch of names now", "sample"),
    ("Chart: next context token", "→", "token(1)"),
    ("Chart: previous context token", "←", "token(-1)"),
    ("Plot: loss view", "l: the losses over the run", "loss_view"),
    ("Plot: left to learn", "l: whole-data loss - bigram floor, log axis", "gap_view"),
    ("Plot: cursor left", ",: read the column left of the cursor (from the newest column)", "cursor(-1)"),
    ("Plot: cursor right", "/: read the column right of the cursor", "cursor(1)"),
    ("Plot: hide the cursor", "escape: the key line again", "hide_cursor"),
    ("Plot: more smoothing", "}: the moving average's weight up a level (0 .. 0.999)", "smoothing(1)"),
    ("Plot: less smoothing", "{: the moving average's weight down a level (0: none)", "smoothing(-1)"),
    *[(f"View: {label}", f"{n}: the lower panel shows {label.lower()}", f"view({n})") for n, _, label, _, _ in VIEWS],
    ("View: weights / last step's update", "u: view 4 between the weights and lr × gradient", "weights_update"),
    ("View: run the gradient check now", "c: analytic vs numerical gradient of the current name (view 6)",
     "check_gradient"),
    ("Help: keys and what the figures mean", "?: every key, line and figure explained", "help"),
    *[(f"Race: {title}", f"{spec} · {look}", f"ready_race({i})") for i, (title, spec, look) in enumerate(READY_RACES)],
    ("Race: next variant", "v: the names, chart and views show the next variant (V: the previous)", "next_variant(1)"),
]
