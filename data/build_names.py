"""Rebuild data/names.txt from the US Census 1990 first-name lists.

The lists ship inside the MIT-licensed PyPI sdist `names` 0.3.0 as
`names/dist.male.first` and `names/dist.female.first`. Each line there is
`NAME  frequency  cumulative-frequency  rank`; we keep the first column,
lowercase it, drop duplicates (a name on both lists appears once) and write the
names sorted, one per line.

Usage (from the repository root):
    python data/build_names.py                   # runs `pip download names==0.3.0`
    python data/build_names.py names-0.3.0.tar.gz
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MEMBERS = ("names-0.3.0/names/dist.male.first", "names-0.3.0/names/dist.female.first")
OUT = Path(__file__).resolve().parent / "names.txt"


def download_sdist(folder: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "names==0.3.0", "-d", str(folder)]
    subprocess.run(cmd, check=True)
    return next(folder.glob("names-0.3.0.tar.gz"))


def read_names(sdist: Path) -> list[str]:
    found: set[str] = set()
    with tarfile.open(sdist) as tar:
        for member in MEMBERS:
            handle = tar.extractfile(member)
            if handle is None:
                raise SystemExit(f"error: {member} is not a file in {sdist}")
            for line in handle.read().decode("ascii").splitlines():
                if line.strip():
                    found.add(line.split()[0].lower())
    return sorted(found)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        sdist = Path(argv[1]) if len(argv) > 1 else download_sdist(Path(tmp))
        names = read_names(sdist)
    OUT.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
