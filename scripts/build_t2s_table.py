"""Derive detectors/data/t2s_chars.tsv (traditional -> simplified, one character to one) from OpenCC's TSCharacters.txt.

OpenCC's dictionaries are Apache-2.0 (https://github.com/BYVoid/OpenCC). We keep only
single-character, single-code-point pairs so the conversion never changes text length and
evidence offsets stay exact. Run: pip install opencc-python-reimplemented && python scripts/build_t2s_table.py
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "detectors" / "data" / "t2s_chars.tsv"


def main() -> int:
    source = resources.files("opencc").joinpath("dictionary", "TSCharacters.txt").read_text("utf-8")
    pairs = []
    for line in source.splitlines():
        if not line.strip():
            continue
        trad, simp = line.split("\t", 1)
        first = simp.split(" ")[0]
        if len(trad) == 1 and len(first) == 1 and trad != first:
            pairs.append(f"{trad}\t{first}")
    header = "# traditional\tsimplified — derived from OpenCC TSCharacters.txt (Apache-2.0) by scripts/build_t2s_table.py\n"
    OUT.write_text(header + "\n".join(pairs) + "\n", encoding="utf-8")
    print(f"wrote {len(pairs)} pairs to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
