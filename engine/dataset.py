"""Training documents: read a text file, shuffle it, build the vocabulary and tokenise it once.

Follows the tutorial exactly: one document per line, stripped, blank lines dropped, shuffled with the
run's `random.Random`, vocabulary = the sorted set of the documents' characters, and BOS = the LAST
id, used both to start and to end every document.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from engine.config import Config, check_model_size
from engine.errors import DataError

VocabCheck = Callable[[int], object]  # given the vocabulary size, raises if the run cannot have it

# Refuse larger files rather than exhaust memory: loading costs ~40 bytes of memory per byte of short
# names (Python strings, the shuffle, the token arrays); 32 MiB of 8-byte names peaks at ~1.4 GB.
MAX_DATA_BYTES = 32 * 1024**2


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, or raise DataError with a one-line reason."""
    p = Path(path)
    try:
        if p.is_dir():
            raise DataError(f"{p}: is a directory, not a text file")
        if p.exists() and not p.is_file():
            raise DataError(f"{p}: is not a regular file (a device or a pipe?)")
        size = p.stat().st_size
        if size > MAX_DATA_BYTES:
            raise DataError(f"{p}: {size / 1024**2:.0f} MB is over the {MAX_DATA_BYTES // 1024**2} MB limit")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{p}: no such file") from None
    except PermissionError:
        raise DataError(f"{p}: permission denied") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise DataError(f"{p}: holds NUL bytes; is it a binary file? Give a UTF-8 text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{p}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def check_tables(vocab_size: int) -> None:
    """The least a data set's vocabulary must allow: its (V, V) tables with the default model."""
    c = Config()
    check_model_size(vocab_size, c.n_embd, c.hidden_size)


def _no_check(vocab_size: int) -> None:
    return None


def split_docs(text: str) -> list[str]:
    """The tutorial's `[l.strip() for l in text.strip().split('\\n') if l.strip()]`."""
    return [line.strip() for line in text.strip().split("\n") if line.strip()]


class Dataset:
    """Shuffled documents, their vocabulary, all of them tokenised into one flat array.

    `tokens` is BOS d0 BOS d1 BOS ... d(N-1) BOS: document i is `tokens[offsets[i] : offsets[i+1] + 1]`,
    each BOS ending one document and starting the next. `counts[a, b]` is how often token b follows
    token a over the whole data set: everything a one-token-context model can learn.
    """

    def __init__(self, docs: list[str], uchars: list[str], tokens: np.ndarray, offsets: np.ndarray,
                 check: VocabCheck | None = None):
        (check or check_tables)(len(uchars) + 1)  # before the first (V, V) table is made
        self.docs = docs
        self.uchars = uchars
        self.tokens = tokens  # (total,) intp
        self.offsets = offsets  # (N + 1,) intp
        self._index = {ch: i for i, ch in enumerate(uchars)}
        v = self.vocab_size
        pairs = np.bincount(tokens[:-1] * v + tokens[1:], minlength=v * v)
        self.counts = pairs.reshape(v, v)  # (V, V) int64

    @classmethod
    def from_docs(cls, docs: list[str], rng: random.Random, check: VocabCheck | None = None) -> Dataset:
        """Shuffle `docs` (a copy) with `rng` and tokenise them. `check(vocab_size)` runs as soon as the
        vocabulary is known, before anything vocabulary-squared is allocated (default: check_tables)."""
        docs = list(docs)
        if not docs:
            raise DataError("no documents: the data is empty or only blank lines")
        rng.shuffle(docs)
        # One vectorised pass: code points of all documents, "\n" between them (never inside one).
        codes = np.frombuffer("\n".join(docs).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        sep = codes == ord("\n")
        letters = np.unique(codes[~sep])  # sorted by code point, as Python sorts characters
        bos = len(letters)
        ids = np.searchsorted(letters, codes).astype(np.intp)
        ids[sep] = bos
        tokens = np.concatenate(([bos], ids, [bos])).astype(np.intp)
        offsets = np.flatnonzero(tokens == bos)
        uchars = [chr(c) for c in letters.tolist()]
        return cls(docs, uchars, tokens, offsets, check)

    @classmethod
    def from_file(cls, path: str | Path, rng: random.Random, check: VocabCheck | None = None) -> Dataset:
        docs = split_docs(read_text(path))
        if not docs:
            raise DataError(f"{path}: holds no names (it is empty or only blank lines)")
        return cls.from_docs(docs, rng, check)

    def split(self, held: int) -> tuple[Dataset, Dataset | None]:
        """(the first N - held documents, the last `held`), both with THIS vocabulary and without
        tokenising again; (self, None) when nothing is held out. The vocabulary stays that of all the
        names: the model's shape (and so its initial weights, drawn from the seed) does not depend on
        the split, and every held-out name can be encoded, even one with a letter no training name has."""
        if held <= 0:
            return self, None
        n = len(self.docs) - held
        cut = int(self.offsets[n])  # the BOS that ends training doc n-1 starts held-out doc 0
        skip = _no_check  # the vocabulary was checked when this data set was made
        train = Dataset(self.docs[:n], self.uchars, self.tokens[: cut + 1], self.offsets[: n + 1], skip)
        held_out = Dataset(self.docs[n:], self.uchars, self.tokens[cut:], self.offsets[n:] - cut, skip)
        return train, held_out

    @property
    def bos(self) -> int:
        return len(self.uchars)

    @property
    def vocab_size(self) -> int:
        return len(self.uchars) + 1

    def __len__(self) -> int:
        return len(self.docs)

    def doc_tokens(self, i: int) -> np.ndarray:
        """[BOS] + document i's ids + [BOS]."""
        return self.tokens[self.offsets[i] : self.offsets[i + 1] + 1]

    def encode(self, doc: str) -> list[int]:
        return [self.bos] + [self._index[ch] for ch in doc] + [self.bos]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.uchars[i] for i in ids if i != self.bos)

    def token_label(self, token: int) -> str:
        """A visible label for a token: BOS shows as 'BOS', a space as '␣'."""
        if token == self.bos:
            return "BOS"
        ch = self.uchars[token]
        return "␣" if ch == " " else ch

    @cached_property
    def _doc_set(self) -> frozenset[str]:
        return frozenset(self.docs)  # built on first use: a run that never asks pays nothing

    def is_training_name(self, name: str) -> bool:
        """Whether `name` is one of the training documents: a sample the model copied, not invented."""
        return name in self._doc_set
