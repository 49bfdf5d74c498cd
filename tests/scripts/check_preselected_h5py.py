#!/usr/bin/env python3
"""Independent check of a pre-selection file (RUN/preselect/preselected.h5) with h5py.

Usage: check_preselected_h5py.py FILE EXPECTED.json

EXPECTED.json: {"records": [...], "ids": [...], "counts": [...],
"mean_distance": [...], "metadata": {...}} as the C++ test wrote them.
Checks the layout of docs/store-format.md ("Pre-selection file") and the
values (mean distances bit for bit: JSON carries them with 17 digits).
Exits 0 when everything matches, 1 with one line per problem otherwise.
"""

import json
import sys

import h5py
import numpy as np


def check(path, expected_path):
    with open(expected_path, encoding="utf-8") as f:
        want = json.load(f)
    problems = []

    def expect(ok, message):
        if not ok:
            problems.append(message)

    with h5py.File(path, "r") as f:
        a = f.attrs
        expect(a.get("format") == "ntks-preselected", f"format attribute is {a.get('format')!r}")
        expect(int(a.get("format_version", -1)) == 1, "format_version is not 1")
        try:
            expect(json.loads(a.get("metadata")) == want["metadata"], "metadata differs")
        except (TypeError, ValueError) as e:
            problems.append(f"metadata is not JSON: {e}")
        for name, dtype in (("records", np.int64), ("counts", np.int64), ("mean_distance", np.float64)):
            d = f[name]
            expect(d.dtype == dtype, f"{name} dtype {d.dtype}, expected {np.dtype(dtype)}")
            expect(d.shape == (len(want[name]),), f"{name} shape {d.shape}")
            expect(np.array_equal(d[...], np.array(want[name], dtype=dtype)), f"{name} differ")
        info = h5py.check_string_dtype(f["ids"].dtype)
        expect(info is not None and info.encoding == "utf-8" and info.length is None,
               f"ids are not variable-length UTF-8 strings: {info}")
        expect(list(f["ids"].asstr()[...]) == want["ids"], "ids differ")

    for p in problems:
        print(f"{path}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(check(sys.argv[1], sys.argv[2]))
