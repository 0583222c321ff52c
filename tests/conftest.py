"""Shared fixtures: the tutorial's name list (when ../shared is there) and small data sets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tutorial_reference

SHARED_NAMES = ROOT.parent / "shared" / "data" / "names.txt"
IN_CI = os.environ.get("CI") == "true"

# Capitals, spaces, hyphens, apostrophes, accents, a blank line, surrounding spaces and \r\n endings.
MIXED_TEXT = "Zoë\r\nJean-Luc\r\n  o'Brien  \r\n\r\nMary Ann\r\nJosé\r\nÅsa\r\nbob\r\nX\r\nAnne-Marie\r\n"


@pytest.fixture
def shared_names() -> Path:
    """The tutorial's 32,033 names. CI always has them; a checkout without ../shared skips (locally)."""
    if not SHARED_NAMES.is_file():
        if IN_CI:
            pytest.fail(f"{SHARED_NAMES} is missing in CI")
        pytest.skip(f"{SHARED_NAMES} not present")
    return SHARED_NAMES


@pytest.fixture
def mixed_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.txt"
    path.write_bytes(MIXED_TEXT.encode("utf-8"))
    return path
