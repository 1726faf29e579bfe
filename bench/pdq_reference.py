#!/usr/bin/env python3
"""Reference PDQ timings and hashes for `staydown bench pdq` and for regenerating fixtures.

The reference is Meta's C++ PDQ core through the PyPI package `pdqhash` (what HMA and
python-threatexchange use), fed with Pillow-decoded RGB pixels exactly as specs/pdq.md defines:
`Image.open(path).convert("RGB")`. Single-threaded: one process, one image at a time.

Install:  pip install pdqhash pillow "numpy<2"   (pdqhash 0.2.8's wheel is built against numpy 1.x)

Usage:
  pdq_reference.py [--repeat N] [--cpu-time] FILE...
                                            JSON on stdout: per file, the hash and quality and the
                                            median seconds of decode (open + convert + asarray)
                                            and of hash (pdqhash.compute on those pixels);
                                            --cpu-time: thread CPU time (time.thread_time)
                                            instead of wall time (time.perf_counter)
  pdq_reference.py --dihedral FILE...       CSV on stdout: path,quality,8 dihedral hashes (the
                                            reference's compute_dihedral), for fixtures
"""

import json
import statistics
import sys
import time

import numpy as np
import pdqhash
from PIL import Image
import PIL


def to_hex(bits):
    # pdqhash returns the bit vector most significant bit first (see specs/pdq.md).
    return "".join("%x" % int("".join(str(int(b)) for b in bits[i:i + 4]), 2) for i in range(0, 256, 4))


def decode(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def main(argv):
    repeat = 5
    dihedral = False
    clock = time.perf_counter
    files = []
    it = iter(argv)
    for arg in it:
        if arg == "--repeat":
            repeat = int(next(it))
        elif arg == "--cpu-time":
            clock = time.thread_time
        elif arg == "--dihedral":
            dihedral = True
        else:
            files.append(arg)
    if not files:
        print(__doc__, file=sys.stderr)
        return 2

    if dihedral:
        print("path,quality,original,rotate90,rotate180,rotate270,flip_x,flip_y,flip_plus1,flip_minus1")
        for path in files:
            hashes, quality = pdqhash.compute_dihedral(decode(path))
            print(",".join([path, str(quality)] + [to_hex(h) for h in hashes]))
        return 0

    results = []
    for path in files:
        decode_s, hash_s = [], []
        for _ in range(repeat):
            t0 = clock()
            pixels = decode(path)
            t1 = clock()
            bits, quality = pdqhash.compute(pixels)
            t2 = clock()
            decode_s.append(t1 - t0)
            hash_s.append(t2 - t1)
        results.append({
            "path": path,
            "width": int(pixels.shape[1]),
            "height": int(pixels.shape[0]),
            "pdq": to_hex(bits),
            "quality": int(quality),
            "decode_s": statistics.median(decode_s),
            "hash_s": statistics.median(hash_s),
        })
    json.dump({
        "reference": "pdqhash (Meta C++ PDQ core) + Pillow",
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "repeat": repeat,
        "clock": "thread_time" if clock is time.thread_time else "perf_counter",
        "results": results,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
