#!/usr/bin/env python3
"""Decode the bar codes in label PNGs with zxing-cpp (an independent reader).

Usage: python3 scripts/decode_labels.py FILE.png [FILE.png ...]

Prints one JSON line per file:
  {"file": "...", "codes": [{"format": "Code128"|"DataMatrix"|..., "text": "..."}, ...]}
with the codes sorted by text. Exits 0 even when nothing decodes (the caller
compares); exits 2 when zxing-cpp or Pillow is missing (pip install zxing-cpp pillow).
"""
import json
import sys

try:
    import zxingcpp
    from PIL import Image
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"decode_labels.py: {exc}; run: pip install zxing-cpp pillow", file=sys.stderr)
    sys.exit(2)


def format_name(fmt) -> str:
    name = str(fmt).split(".")[-1].replace(" ", "")
    return {"Code128": "Code128", "DataMatrix": "DataMatrix"}.get(name, name)


def decode(path: str) -> dict:
    codes = []
    try:
        image = Image.open(path).convert("L")
        results = zxingcpp.read_barcodes(image)
    except Exception as exc:  # unreadable file: report, keep going
        return {"file": path, "codes": [], "error": str(exc)}
    for r in results:
        if not r.valid:
            continue
        codes.append({"format": format_name(r.format), "text": r.text})
    codes.sort(key=lambda c: (c["text"], c["format"]))
    return {"file": path, "codes": codes}


def main(argv: list) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 0
    for path in argv:
        print(json.dumps(decode(path), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
