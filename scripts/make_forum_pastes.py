"""Rebuild the forum pastes in corpus/forum/ from their clean originals.

Each ``tests/fixtures/forum_clean/NAME.md`` (YAML front matter + paragraphs separated by
blank lines) becomes ``corpus/forum/NAME.txt``, a Discuz paste with forum chrome and jammer
noise (``tests/noise.py``), plus ``corpus/forum/NAME.txt.meta.yaml`` holding the front matter.
The seed of each paste is derived from its name, so re-running gives identical bytes.

Run: ``python scripts/make_forum_pastes.py``
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.noise import forum_paste  # noqa: E402


def split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        return {}, text
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head) or {}, body


def main() -> None:
    src_dir = ROOT / "tests" / "fixtures" / "forum_clean"
    out_dir = ROOT / "corpus" / "forum"
    out_dir.mkdir(parents=True, exist_ok=True)
    for src in sorted(src_dir.glob("*.md")):
        meta, body = split_front_matter(src.read_text(encoding="utf-8"))
        paragraphs = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
        paste = forum_paste(paragraphs, seed=zlib.crc32(src.stem.encode()))
        (out_dir / f"{src.stem}.txt").write_text(paste, encoding="utf-8")
        (out_dir / f"{src.stem}.txt.meta.yaml").write_text(
            yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        print(f"wrote corpus/forum/{src.stem}.txt")


if __name__ == "__main__":
    main()
