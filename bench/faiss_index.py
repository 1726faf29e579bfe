#!/usr/bin/env python3
"""FAISS on the very data of a `staydown bench index --dump DIR` run, for the comparison in
docs/index.md (issue 5).

Usage:
    staydown bench index --entries 1000000 --queries 10000 --radius 31 --dump DIR
    python3 bench/faiss_index.py DIR            # needs: pip install faiss-cpu numpy

It loads the entries, the queries and the brute-force truth that the Rust bench wrote, runs
range search at the same radius with FAISS's exact binary indexes on ONE thread:
  - IndexBinaryFlat (brute force),
  - IndexBinaryMultiHash with 16 hashes of 16 bits and nflip=1 (the configuration Meta's
    Hasher-Matcher-Actioner uses for PDQ),
checks each against the truth (recall, extra results), measures queries/s and memory (growth of
the process's resident set while the index is built), and prints the ratio of staydown's
single-thread queries/s (read from DIR/staydown.json, written by the same Rust run) to each.
For a `--dihedral` dump (8 searches per upload) it also prints uploads/s and searches the
multi-hash index with each upload's own hash alone, the plain figure beside staydown's.

FAISS's binary range_search returns distances strictly below its radius argument, so it is
called with radius + 1 (as HMA does). IndexBinaryMultiHash allocates a lot during search; with
glibc malloc it is several times slower, so the script re-executes itself with jemalloc
preloaded when /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 exists (apt-get install libjemalloc2),
i.e. FAISS is measured in its best configuration. --no-jemalloc measures it without.
"""

import argparse
import json
import os
import sys
import time

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def maybe_reexec_with_jemalloc(args):
    preload = os.environ.get("LD_PRELOAD", "")
    if args.no_jemalloc or "jemalloc" in preload or not os.path.exists(JEMALLOC):
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = (JEMALLOC + " " + preload).strip()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def jemalloc_loaded():
    with open("/proc/self/maps") as maps:
        return "jemalloc" in maps.read()


def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def load(directory):
    import numpy as np

    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    entries = np.fromfile(os.path.join(directory, "entries.bin"), dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(os.path.join(directory, "queries.bin"), dtype=np.uint8).reshape(-1, 32)
    counts = np.fromfile(os.path.join(directory, "truth_counts.bin"), dtype="<u4")
    ids = np.fromfile(os.path.join(directory, "truth_ids.bin"), dtype="<u8")
    assert len(entries) == meta["entries"] and len(queries) == meta["queries"]
    assert len(counts) == len(queries) and int(counts.sum()) == len(ids)
    starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
    truth = [set(ids[starts[i] : starts[i + 1]].tolist()) for i in range(len(queries))]
    return meta, entries, queries, truth


def search(index, queries, truth, radius):
    """Times one range search over `queries`; returns (queries/s, recall, extra results)."""
    start = time.perf_counter()
    lims, _distances, labels = index.range_search(queries, radius + 1)
    seconds = time.perf_counter() - start
    found = expected = extra = 0
    for i, want in enumerate(truth):
        got = set(labels[lims[i] : lims[i + 1]].tolist())
        expected += len(want)
        found += len(got & want)
        extra += len(got - want)
    return len(queries) / seconds, (found / expected if expected else 1.0), extra


def run_index(name, make, entries, queries, truth, radius, plain_every=0):
    rss_before = rss_bytes()
    start = time.perf_counter()
    index = make()
    index.add(entries)
    build_s = time.perf_counter() - start
    memory = rss_bytes() - rss_before
    # Warm-up outside the timing (first-touch page faults of the search structures).
    index.range_search(queries[:10], radius + 1)
    qps, recall, extra = search(index, queries, truth, radius)
    result = {
        "index": name,
        "queries": len(queries),
        "qps": qps,
        "recall": recall,
        "extra": extra,
        "memory_bytes": memory,
        "build_s": build_s,
    }
    if plain_every:
        # Dihedral dump: every `plain_every`-th query is an upload's own hash; the same index
        # searched with those alone is the plain (non-dihedral) figure of the same run.
        plain_qps, plain_recall, plain_extra = search(index, queries[::plain_every], truth[::plain_every], radius)
        result.update({"plain_qps": plain_qps, "plain_recall": plain_recall, "plain_extra": plain_extra})
    del index
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", help="directory written by `staydown bench index --dump DIR`")
    parser.add_argument(
        "--flat-queries",
        type=int,
        default=0,
        help="time IndexBinaryFlat on only the first N queries (0: all); recall is then over those",
    )
    parser.add_argument("--no-jemalloc", action="store_true", help="do not preload jemalloc")
    args = parser.parse_args()
    maybe_reexec_with_jemalloc(args)

    import faiss

    faiss.omp_set_num_threads(1)
    meta, entries, queries, truth = load(args.dir)
    radius = meta["radius"]
    with open(os.path.join(args.dir, "staydown.json")) as f:
        staydown = json.loads(f.read())
    print(
        f"FAISS {faiss.__version__}, one thread, jemalloc {'preloaded' if jemalloc_loaded() else 'NOT loaded'}; "
        f"{len(entries)} entries, {len(queries)} queries, radius {radius}"
    )

    def multi_hash():
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1
        return index

    flat_n = args.flat_queries or len(queries)
    # MultiHash first: its memory is measured as RSS growth, which pages freed by an earlier
    # index could hide.
    dihedral = bool(staydown.get("dihedral"))
    per_upload = 8 if dihedral else 1
    results = [
        run_index(
            "IndexBinaryMultiHash(16x16, nflip=1)",
            multi_hash,
            entries,
            queries,
            truth,
            radius,
            plain_every=per_upload if dihedral else 0,
        ),
        run_index("IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(256), entries, queries[:flat_n], truth[:flat_n], radius),
    ]
    ours = staydown["qps_single_thread"]
    raw = 32 * len(entries)
    for r in results:
        print(
            f"  {r['index']:<38} {r['qps']:>9.0f} queries/s ({r['queries']} queries), recall {r['recall']}"
            f" ({r['extra']} extra), memory {r['memory_bytes']} bytes = {r['memory_bytes'] / raw:.2f} x raw,"
            f" build {r['build_s']:.2f} s; staydown/FAISS = {ours / r['qps']:.1f}x"
        )
    exact = [r for r in results if r["recall"] == 1.0 and r["extra"] == 0]
    best = max(exact, key=lambda r: r["qps"]) if exact else None
    print(
        f"  staydown (same data, one thread)       {ours:>9.0f} queries/s, recall {staydown['recall']},"
        f" memory {staydown['memory_bytes']} bytes = {staydown['memory_bytes'] / raw:.2f} x raw"
    )
    if best:
        print(f"  ratio vs the best exact FAISS index ({best['index']}): {ours / best['qps']:.1f}x")
    plain_ratio = None
    if dihedral:
        mh = results[0]
        ours_plain = staydown.get("plain_uploads_per_s_single_thread")
        print(
            f"  dihedral (8 searches per upload): staydown {ours / 8:.0f} uploads/s, {mh['index']}"
            f" {mh['qps'] / 8:.0f} uploads/s -> {ours / mh['qps']:.1f}x"
        )
        if ours_plain:
            plain_ratio = ours_plain / mh["plain_qps"]
            print(
                f"  plain (each upload's own hash only): staydown {ours_plain:.0f} uploads/s, {mh['index']}"
                f" {mh['plain_qps']:.0f} uploads/s (recall {mh['plain_recall']}, {mh['plain_extra']} extra)"
                f" -> {plain_ratio:.1f}x"
            )
    print(
        json.dumps(
            {
                "entries": len(entries),
                "queries": len(queries),
                "radius": radius,
                "jemalloc": jemalloc_loaded(),
                "faiss": results,
                "staydown_qps_single_thread": ours,
                "ratio_vs_best_faiss": ours / best["qps"] if best else None,
                "dihedral": dihedral,
                "plain_ratio_vs_multihash": plain_ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
