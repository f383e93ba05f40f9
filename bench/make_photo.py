#!/usr/bin/env python3
"""Writes a known 512x512 RGB PNG using only the standard library (zlib + struct).

Left half red, right half blue, each with a vertical brightness gradient and a horizontal
tint, so the picture is not a flat colour. VARIANT (0-9000) shifts the tint and the shade, so each variant
is a different photo. Usage: make_photo.py OUT.png [SIDE] [VARIANT]
"""

import struct
import sys
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def picture(side: int, variant: int = 0) -> bytes:
    rows = bytearray()
    half = side // 2
    for y in range(side):
        rows.append(0)  # filter type: none
        shade = max(0, 255 - (y * 160) // max(side - 1, 1) - (variant // 256) * 7)
        for x in range(side):
            tint = ((x * 60) // max(side - 1, 1) + variant) % 256
            if x < half:
                rows += bytes((shade, tint, tint // 2))
            else:
                rows += bytes((tint // 2, tint, shade))
    return bytes(rows)


def png(side: int, variant: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(picture(side, variant), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    if len(sys.argv) not in (2, 3, 4):
        sys.exit("usage: make_photo.py OUT.png [SIDE] [VARIANT]")
    side = int(sys.argv[2]) if len(sys.argv) >= 3 else 512
    variant = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    with open(sys.argv[1], "wb") as out:
        out.write(png(side, variant))


if __name__ == "__main__":
    main()
