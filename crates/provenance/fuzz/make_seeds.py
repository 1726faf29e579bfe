#!/usr/bin/env python3
"""Writes a small seed corpus for the `metadata` fuzz target into corpus/metadata/.

Seeds are tiny hand-assembled containers (PNG, JPEG, WebP) carrying each kind of metadata the
parsers read, plus raw XMP (prefix 0x00) and EXIF (prefix 0x01) inputs. The corpus directory is
not committed (see .gitignore); run this before `cargo +nightly fuzz run metadata`.
"""
import os, struct, zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "metadata")
os.makedirs(OUT, exist_ok=True)

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
       b' Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"'
       b' xmp:CreatorTool="Midjourney"><xmp:CreatorTool>A &amp; B</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>')

def tiff():
    soft = b"NovelAI\0"
    comment = b"ASCII\0\0\0Steps: 20, Sampler: Euler, Model: flux1"
    ifd0 = struct.pack("<H", 2)
    data_at = 8 + 2 + 2 * 12 + 4
    ifd0 += struct.pack("<HHII", 0x0131, 2, len(soft), data_at)
    sub_at = data_at + len(soft)
    ifd0 += struct.pack("<HHII", 0x8769, 4, 1, sub_at) + struct.pack("<I", 0)
    sub = struct.pack("<H", 1) + struct.pack("<HHII", 0x9286, 7, len(comment), sub_at + 18) + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd0 + soft + sub + comment

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def png(chunks):
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\0\0"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(chunks) + idat + png_chunk(b"IEND", b"")

def jpeg(segments):
    out = b"\xff\xd8"
    for payload in segments:
        out += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return out + b"\xff\xda\x00\x02\xff\xd9"

def riff(chunks):
    body = b"WEBP"
    for fourcc, data in chunks:
        body += fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body

seeds = {
    "png_text": png([png_chunk(b"tEXt", b"parameters\0p\nSteps: 20, Sampler: Euler a, Model: sdxl"),
                     png_chunk(b"zTXt", b"prompt\0\0" + zlib.compress(b'{"1": {"class_type": "X", "inputs": {"ckpt_name": "a"}}}')),
                     png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\x01\0en\0\0" + zlib.compress(XMP)),
                     png_chunk(b"eXIf", tiff())]),
    "jpeg": jpeg([b"http://ns.adobe.com/xap/1.0/\0" + XMP, b"Exif\0\0" + tiff()]),
    "webp": riff([(b"VP8X", b"\x0c\0\0\0\0\0\0\0\0\0"), (b"EXIF", tiff()), (b"XMP ", XMP)]),
    "raw_xmp": b"\0" + XMP,
    "raw_exif": b"\1" + tiff(),
}
# Issue 14: the committed media fixtures with every kind of metadata (canaries, ComfyUI EXIF,
# NovelAI alpha-channel data), as whole files.
MEDIA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures", "media")
# HEIC/AVIF with EXIF and XMP items (read through libheif: the fuzz crate enables `heif`).
for name in ["canary.png", "canary.jpg", "canary.webp", "novelai-stealth.png", "c2pa-google-synthid.jpg",
             "canary.heic", "canary.avif", "ai-label.heic", "ai-label.avif"]:
    with open(os.path.join(MEDIA, name), "rb") as f:
        seeds["media-" + name] = f.read()
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
