"""Write rag/data/cjk_radicals.tsv: CJK radical code points -> the ideograph that shares the glyph.

PDF printers map a glyph back to text through the font's cmap; a CJK font gives the radical
code point (U+2EDA for 页) and the ideograph the same glyph, so extracted text can carry the
radical. NFKC maps the Kangxi radicals (U+2F00-U+2FD5) but not the CJK Radicals Supplement
(U+2E80-U+2EFF); this table comes from the same place the problem does, the font.

Usage: python scripts/make_cjk_radicals.py [FONT.ttc]  (default: Noto Sans CJK, fonts-noto-cjk)
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTCollection

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = Path(__file__).resolve().parent.parent / "rag" / "data" / "cjk_radicals.tsv"


def main() -> None:
    coll = TTCollection(sys.argv[1] if len(sys.argv) > 1 else FONT)
    # the simplified-Chinese face first: its glyphs decide what a radical stands for in
    # simplified text; NFKC (the traditional forms) is right for the rest
    fonts = sorted(coll.fonts, key=lambda f: "SC" not in f["name"].getDebugName(1))
    table: dict[int, tuple[int, str]] = {}
    for font in fonts:
        cmap = font.getBestCmap()
        ideograph_of: dict[int, int] = {}
        for cp, glyph in sorted(cmap.items()):
            if 0x4E00 <= cp <= 0x9FFF:
                ideograph_of.setdefault(glyph, cp)
        for cp, glyph in cmap.items():
            if not 0x2E80 <= cp <= 0x2FDF or cp in table or glyph not in ideograph_of:
                continue
            nfkc = unicodedata.normalize("NFKC", chr(cp))
            if nfkc == chr(cp):
                table[cp] = (ideograph_of[glyph], "all")
            elif nfkc != chr(ideograph_of[glyph]) and "SC" in font["name"].getDebugName(1):
                table[cp] = (ideograph_of[glyph], "simplified")  # NFKC gives the traditional form
    lines = [
        "# version: 1",
        "# radical\tideograph\twhen\tname (made by scripts/make_cjk_radicals.py)",
    ]
    lines += [
        f"{chr(cp)}\t{chr(u)}\t{when}\t{unicodedata.name(chr(cp), '')}"
        for cp, (u, when) in sorted(table.items())
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(table)} radicals -> {OUT}")


if __name__ == "__main__":
    main()
