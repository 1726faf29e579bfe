#!/usr/bin/env python3
"""Reference side of `staydown bench video`: PyPI `vpdq` (ThreatExchange's C++ vPDQ with its
FFmpeg decoder, Python bindings) on the same files, printed as one JSON line per file.

    python3 bench/vpdq_reference.py --threads 0 --seconds-per-hash 1 --repeat 3 FILE...
    python3 bench/vpdq_reference.py --dump fixtures/vpdq/expected-pypi FILE...   # conformance files

`--dump` writes, per file, the every-frame vPDQ at the coded size and at 128x128 in the
reference's file format (`frame,quality,pdq_hex,timestamp`), as crates/vpdq/tests/conformance.rs
reads them. Install: `apt-get install libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev
libswscale-dev libswresample-dev libavutil-dev pkg-config cmake g++ python3-dev; pip install vpdq`.
"""
import argparse
import json
import os
import statistics
import time

import vpdq


def write(path, features):
    with open(path, "w") as f:
        for x in features:
            f.write(f"{x.frame_number},{x.quality},{x.hex},{x.timestamp:.3f}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seconds-per-hash", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dump")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    for path in a.files:
        if a.dump:
            name = os.path.splitext(os.path.basename(path))[0]
            for (w, h, suffix) in [(0, 0, ""), (128, 128, "-128x128")]:
                feats = vpdq.computeHash(path, seconds_per_hash=0, downsample_width=w, downsample_height=h)
                write(os.path.join(a.dump, f"{name}{suffix}.txt"), feats)
            continue
        times = []
        cpus = []
        frames = 0
        feats = []
        for _ in range(a.repeat):
            t, c = time.perf_counter(), time.process_time()
            feats = vpdq.computeHash(path, seconds_per_hash=a.seconds_per_hash, thread_count=a.threads)
            times.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            frames = len(feats)
        text = "".join(f"{x.frame_number},{x.quality},{x.hex},{x.timestamp:.3f}\n" for x in feats)
        print(json.dumps({"path": path, "seconds": statistics.median(times), "cpu": statistics.median(cpus), "frames": frames,
                          "vpdq": text,
                          "version": getattr(vpdq, "__version__", "0.2.5")}), flush=True)


if __name__ == "__main__":
    main()
