#!/usr/bin/env python3
"""Independent check of an ntk-select feature file with h5py and numpy.

Usage: check_store_h5py.py FILE EXPECTED.bin

EXPECTED.bin holds what the C++ test appended, little-endian:
    int64 rows, int64 dim,
    float32[rows*dim] the rows as appended (before any fp16 rounding),
    uint64[rows] keys,
    the ids as UTF-8 joined by '\\n'.

Checks the schema of docs/store-format.md and that `features` equals the
appended rows: bit for bit for f32, and for f16 equal to numpy's own
float32 -> float16 rounding (NaN positions compared separately).
Exits 0 when everything matches, 1 with one line per problem otherwise.
"""

import json
import struct
import sys

import h5py
import numpy as np


def load_expected(path):
    with open(path, "rb") as f:
        blob = f.read()
    rows, dim = struct.unpack_from("<qq", blob, 0)
    offset = 16
    values = np.frombuffer(blob, "<f4", rows * dim, offset).reshape(rows, dim)
    offset += 4 * rows * dim
    keys = np.frombuffer(blob, "<u8", rows, offset)
    offset += 8 * rows
    ids = blob[offset:].decode("utf-8").split("\n") if rows else []
    return rows, dim, values, keys, ids


def check(path, expected_path):
    rows, dim, values, keys, ids = load_expected(expected_path)
    problems = []

    def expect(ok, message):
        if not ok:
            problems.append(message)

    with h5py.File(path, "r") as f:
        a = f.attrs
        expect(a.get("format") == "ntks-features", f"format attribute is {a.get('format')!r}")
        expect(int(a.get("format_version", -1)) == 2, "format_version is not 2")
        expect(int(a.get("complete", -1)) == 1, "complete is not 1")
        expect(int(a.get("rows", -1)) == rows, f"rows attribute {a.get('rows')} != {rows}")
        expect(int(a.get("dim", -1)) == dim, f"dim attribute {a.get('dim')} != {dim}")
        dtype = a.get("dtype")
        expect(dtype in ("f32", "f16"), f"dtype attribute is {dtype!r}")
        expect(isinstance(a.get("kind"), str), "kind is not a string")
        try:
            json.loads(a.get("metadata"))
        except (TypeError, ValueError) as e:
            problems.append(f"metadata is not JSON: {e}")

        feats = f["features"]
        want_type = np.float16 if dtype == "f16" else np.float32
        expect(feats.dtype == want_type, f"features dtype {feats.dtype}, expected {np.dtype(want_type)}")
        expect(feats.shape == (rows, dim), f"features shape {feats.shape} != {(rows, dim)}")
        expect(feats.maxshape == (None, dim), f"features maxshape {feats.maxshape}")
        expect(feats.chunks is not None, "features is not chunked")
        got = feats[...]
        want = values.astype(want_type)  # numpy rounds to nearest even
        if got.shape == want.shape:
            nan_got, nan_want = np.isnan(got), np.isnan(want)
            expect(np.array_equal(nan_got, nan_want), "NaN positions differ")
            uint = np.uint16 if want_type == np.float16 else np.uint32
            differ = (got.view(uint) != want.view(uint)) & ~nan_want
            for r, c in list(zip(*np.nonzero(differ)))[:10]:
                problems.append(f"features[{r}, {c}] = {got[r, c]!r}, expected {want[r, c]!r} "
                                f"(appended {values[r, c]!r})")

        k = f["keys"]
        expect(k.dtype == np.uint64, f"keys dtype {k.dtype}")
        expect(np.array_equal(k[...], keys), "keys differ")

        # tests/unit/test_store_support.h's make_block: index 3 * row + 1, tokens row % 97 + 1
        for name, want_col in (("indices", 3 * np.arange(rows) + 1), ("tokens", np.arange(rows) % 97 + 1)):
            col = f[name]
            expect(col.dtype == np.int64, f"{name} dtype {col.dtype}")
            expect(np.array_equal(col[...], want_col), f"{name} differ")

        string_info = h5py.check_string_dtype(f["ids"].dtype)
        expect(string_info is not None and string_info.encoding == "utf-8" and string_info.length is None,
               f"ids are not variable-length UTF-8 strings: {string_info}")
        got_ids = list(f["ids"].asstr()[...])
        expect(got_ids == ids, f"ids differ: first {got_ids[:3]} vs {ids[:3]}")

    for p in problems:
        print(f"{path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(check(sys.argv[1], sys.argv[2]))
