#!/usr/bin/env python3
"""Decodes an 8-bit RGB/RGBA PNG (zlib + the five PNG row filters, no image
library) and prints JSON: width, height, the share of pixels that are not
near-white, the standard deviation of the grey level, and how many pixels
are near each colour given as RRGGBB arguments (within 24 per channel).

    png_stats.py shot.png d62728 1f77b4
"""
import json
import struct
import sys
import zlib

import numpy as np


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit(f"{path}: only 8-bit RGB/RGBA without interlace (depth {depth}, type {ctype})")
        elif kind == b"IDAT":
            idat += body
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, stride + 1)
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 1:  # sub: a running sum per channel
            line = np.cumsum(line.reshape(w, bpp), axis=0).reshape(stride) % 256
        elif f == 2:  # up
            line = (line + prev) % 256
        elif f in (3, 4):  # average, Paeth: depend on the left byte, so one at a time
            cur = [0] * stride
            lst, up = line.tolist(), prev.tolist()
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = up[x]
                if f == 3:
                    cur[x] = (lst[x] + (a + b) // 2) & 255
                else:
                    c = up[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                    cur[x] = (lst[x] + pred) & 255
            line = np.array(cur, dtype=np.int32)
        elif f != 0:
            raise SystemExit(f"{path}: row {y} has filter {f}")
        out[y] = line
        prev = line
    return out.reshape(h, w, bpp)[:, :, :3]


def main():
    img = decode(sys.argv[1]).astype(np.int32)
    grey = img.mean(axis=2)
    stats = {
        "width": int(img.shape[1]),
        "height": int(img.shape[0]),
        "non_white": float((img.min(axis=2) < 235).mean()),
        "grey_std": float(grey.std()),
        "colours": {},
    }
    for hexcol in sys.argv[2:]:
        rgb = np.array([int(hexcol[i:i + 2], 16) for i in (0, 2, 4)])
        stats["colours"][hexcol] = int((np.abs(img - rgb).max(axis=2) <= 24).sum())
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
