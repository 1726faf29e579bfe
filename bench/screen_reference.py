#!/usr/bin/env python3
"""The reference of `staydown bench screen` (issue 16, goal 1): an upload-screening HTTP server
built the way Meta's Hasher-Matcher-Actioner (HMA) screens an image.

Per `POST /api/v1/screen` (multipart/form-data, the file in the field `image`):
  - Pillow decodes the image and converts it to RGB,
  - PyPI `pdqhash` (Meta's C++ PDQ) hashes it,
  - SHA-256 and MD5 of the bytes (what staydown computes for exact matching too),
  - a FAISS `IndexBinaryMultiHash` (16 hashes of 16 bits, nflip=1: HMA's PDQ index
    configuration) range search at distance 31 over the bank,
and answers JSON `{"verdict": "allow"|"block", "matches": [...], "hashes": {...}}`.

The bank is `--bank FILE`: 32-byte PDQ hashes back to back (the Rust bench writes the same hashes
it imports into staydown). The index is built once, then the server forks `--workers` processes
(default: the machine's cores) that share the listening socket, each a threaded HTTP/1.1 server
(keep-alive connections) with FAISS on one thread, i.e. the same cores staydown gets. It prints
`ready PORT` when it accepts uploads.

    pip install pillow numpy pdqhash faiss-cpu
    python3 bench/screen_reference.py --bank bank.bin --workers 2
"""

import argparse
import ctypes
import hashlib
import io
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import faiss
import numpy as np
import pdqhash
from PIL import Image

RADIUS = 31


def image_part(body, content_type):
    """The bytes of the multipart field `image` (RFC 7578)."""
    boundary = None
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode()
    for part in body.split(delimiter):
        head, sep, data = part.partition(b"\r\n\r\n")
        if sep and b'name="image"' in head:
            return data[:-2] if data.endswith(b"\r\n") else data
    return None


def make_handler(index):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            data = image_part(body, self.headers.get("Content-Type", ""))
            if data is None:
                return self.answer(422, {"title": "send the image in the multipart field `image`"})
            try:
                rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            except Exception as e:  # noqa: BLE001 - any decoder failure is the upload's problem
                return self.answer(422, {"title": f"undecodable image: {e}"})
            bits, quality = pdqhash.compute(rgb)
            packed = np.packbits(bits.astype(np.uint8)).reshape(1, 32)
            matches = []
            if quality >= 50:
                lims, distances, ids = index.range_search(packed, RADIUS + 1)
                matches = [{"entry": int(i), "distance": int(d)} for i, d in zip(ids[lims[0]:lims[1]], distances[lims[0]:lims[1]])]
            self.answer(
                200,
                {
                    "verdict": "block" if matches else "allow",
                    "matches": matches,
                    "hashes": {
                        "pdq": packed.tobytes().hex(),
                        "pdq_quality": int(quality),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "md5": hashlib.md5(data).hexdigest(),
                    },
                },
            )

        def answer(self, status, value):
            out = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    return Handler


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def maybe_reexec_with_jemalloc():
    """FAISS's IndexBinaryMultiHash allocates a lot per search and is several times faster with
    jemalloc (see bench/faiss_index.py): measure the reference at its best when jemalloc exists."""
    if "jemalloc" in os.environ.get("LD_PRELOAD", "") or not os.path.exists(JEMALLOC):
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = (JEMALLOC + " " + env.get("LD_PRELOAD", "")).strip()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    maybe_reexec_with_jemalloc()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bank", required=True, help="32-byte PDQ hashes back to back")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    hashes = np.fromfile(args.bank, dtype=np.uint8).reshape(-1, 32)
    faiss.omp_set_num_threads(1)
    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.nflip = 1
    index.add(hashes)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(512)
    port = sock.getsockname()[1]

    children = []
    for _ in range(max(1, args.workers)):
        pid = os.fork()
        if pid == 0:
            # Ends with the parent however it ends (PR_SET_PDEATHSIG = 1).
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
            server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(index), bind_and_activate=False)
            server.socket.close()
            server.socket = sock
            server.daemon_threads = True
            server.serve_forever()
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"ready {port}", flush=True)
    for _ in children:
        os.wait()


if __name__ == "__main__":
    main()
