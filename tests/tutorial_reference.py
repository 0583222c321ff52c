"""The tutorial's algorithm in plain Python, written from ../shared/docs/tutorial-spec.md.

Deliberately naive (lists, loops, math): it is the yardstick the numpy engine is held to, and the
baseline of the speed benchmark. It shares no code with the engine.
"""

from __future__ import annotations

import math
import random


def run_tutorial(text: str, num_steps: int = 1000, learning_rate: float = 1.0, seed: int = 42,
                 n_embd: int = 16, temperature: float = 0.5, num_samples: int = 20,
                 stop_after: int | None = None) -> tuple[list[float], list[str]]:
    """Per-step losses and the sampled names, exactly as the tutorial's program computes them."""
    random.seed(seed)
    docs = [l.strip() for l in text.strip().split("\n") if l.strip()]
    random.shuffle(docs)
    uchars = sorted(set("".join(docs)))
    BOS = len(uchars)
    vocab_size = len(uchars) + 1

    def matrix(nout, nin):
        return [[random.gauss(0, 0.08) for _ in range(nin)] for _ in range(nout)]

    wte = matrix(vocab_size, n_embd)
    fc1 = matrix(4 * n_embd, n_embd)
    fc2 = matrix(vocab_size, 4 * n_embd)

    def forward(token):
        x = wte[token]
        h_pre = [sum(w * xi for w, xi in zip(row, x)) for row in fc1]
        h = [max(0.0, v) for v in h_pre]
        logits = [sum(w * hi for w, hi in zip(row, h)) for row in fc2]
        return x, h_pre, h, logits

    def softmax(logits):
        m = max(logits)
        exps = [math.exp(v - m) for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def analytic_gradient(tokens, n):
        g_wte = [[0.0] * n_embd for _ in range(vocab_size)]
        g_fc1 = [[0.0] * n_embd for _ in range(4 * n_embd)]
        g_fc2 = [[0.0] * (4 * n_embd) for _ in range(vocab_size)]
        loss = 0.0
        for pos in range(n):
            token, target = tokens[pos], tokens[pos + 1]
            x, h_pre, h, logits = forward(token)
            probs = softmax(logits)
            loss += -math.log(probs[target]) / n
            dlogits = [p / n for p in probs]
            dlogits[target] -= 1 / n
            dh = [0.0] * (4 * n_embd)
            for i in range(vocab_size):
                for j in range(4 * n_embd):
                    g_fc2[i][j] += dlogits[i] * h[j]
                    dh[j] += fc2[i][j] * dlogits[i]
            dh_pre = [dh[j] if h_pre[j] > 0 else 0.0 for j in range(4 * n_embd)]
            dx = [0.0] * n_embd
            for i in range(4 * n_embd):
                for j in range(n_embd):
                    g_fc1[i][j] += dh_pre[i] * x[j]
                    dx[j] += fc1[i][j] * dh_pre[i]
            for j in range(n_embd):
                g_wte[token][j] += dx[j]
        return loss, (g_wte, g_fc1, g_fc2)

    losses = []
    for step in range(num_steps if stop_after is None else stop_after):
        doc = docs[step % len(docs)]
        tokens = [BOS] + [uchars.index(ch) for ch in doc] + [BOS]
        n = len(tokens) - 1
        loss, grads = analytic_gradient(tokens, n)
        lr_t = learning_rate * (1 - step / num_steps)
        for mat, gmat in zip((wte, fc1, fc2), grads):
            for row, grow in zip(mat, gmat):
                for j in range(len(row)):
                    row[j] -= lr_t * grow[j]
        losses.append(loss)
    if stop_after is not None:
        return losses, []

    samples = []
    for _ in range(num_samples):
        token_id, sample = BOS, []
        for _ in range(16):
            probs = softmax([l / temperature for l in forward(token_id)[3]])
            token_id = random.choices(range(vocab_size), weights=probs)[0]
            if token_id == BOS:
                break
            sample.append(uchars[token_id])
        samples.append("".join(sample))
    return losses, samples
