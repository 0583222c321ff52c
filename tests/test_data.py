"""Reading training data: the tutorial's rules, any characters, and clear errors."""

import random
from pathlib import Path

import pytest

from engine import DataError, Dataset, Run, embedded_names_path
from engine.config import Config


def _load(path):
    return Dataset.from_file(path, random.Random(42))


def test_embedded_names_are_the_census_lists():
    ds = _load(embedded_names_path())
    assert len(ds) == 5163 and ds.vocab_size == 27 and ds.bos == 26


def test_vocabulary_is_sorted_characters_and_bos_is_last(mixed_file):
    ds = _load(mixed_file)
    text = "".join(ds.docs)
    assert ds.uchars == sorted(set(text))
    assert ds.bos == len(ds.uchars)
    assert "Mary Ann" in ds.docs and "o'Brien" in ds.docs and len(ds.docs) == 9
    for i in range(len(ds)):
        assert ds.doc_tokens(i).tolist() == ds.encode(ds.docs[i])
        assert ds.decode(ds.doc_tokens(i).tolist()) == ds.docs[i]


def test_tokens_are_contiguous_documents_separated_by_bos():
    ds = Dataset.from_docs(["ab", "c"], random.Random(1))
    assert ds.tokens[0] == ds.bos and ds.tokens[-1] == ds.bos
    assert int(ds.counts.sum()) == sum(len(d) + 1 for d in ds.docs)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "no names"),
        (b"\n\n   \n\t\n", "no names"),
        (b"anna\x00bob\n", "NUL"),
        (b"caf\xe9\n", "not UTF-8"),
        (bytes(range(256)), "NUL|not UTF-8"),
    ],
)
def test_unusable_files_raise_data_error(tmp_path, content, pattern):
    path = tmp_path / "d.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern):
        _load(path)


def test_missing_directory_and_unreadable(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="no such file"):
        _load(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="directory"):
        _load(tmp_path)
    locked = tmp_path / "locked.txt"
    locked.write_text("anna\n")

    def refuse(self):  # root reads a mode-0 file, so refuse the read the way the OS would
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataError, match="permission denied"):
        _load(locked)


def test_a_single_name_and_a_one_letter_vocabulary_train(tmp_path):
    for text in ("solo\n", "aaa\naa\na\naaaa\n"):
        path = tmp_path / "d.txt"
        path.write_text(text)
        run = Run.new(Config(num_steps=20), path)
        losses = [r.loss for r in run.steps()]
        assert len(losses) == 20 and all(x == x for x in losses)
        assert all(set(n) <= set(run.dataset.uchars) for n in run.sample(count=10))
    assert run.dataset.vocab_size == 2


def test_a_single_megabyte_line_trains(tmp_path):
    path = tmp_path / "long.txt"
    rng = random.Random(0)
    path.write_text("".join(rng.choice("abcdefgh") for _ in range(1_000_000)) + "\n")
    run = Run.new(Config(num_steps=2), path)
    assert len([r for r in run.steps()]) == 2
