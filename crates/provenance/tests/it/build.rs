//! Small real images (encoded with the `image` crate) with metadata chunks and segments written
//! into them the way the tools do.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};

fn encoded(format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(8, 8, |x, y| image::Rgb([(x * 30) as u8, (y * 30) as u8, 128]));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A PNG chunk with its length and CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// An 8×8 PNG with `chunks` (already framed by [`png_chunk`]) inserted after IHDR.
pub fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
    let base = encoded(ImageFormat::Png);
    let after_ihdr = 8 + 8 + 13 + 4;
    assert_eq!(&base[12..16], b"IHDR");
    let mut out = base[..after_ihdr].to_vec();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&base[after_ihdr..]);
    out
}

/// `tEXt` data: keyword NUL text.
pub fn text(keyword: &str, text: &str) -> Vec<u8> {
    png_chunk(b"tEXt", &[keyword.as_bytes(), b"\0", text.as_bytes()].concat())
}

/// `zTXt` data: keyword NUL method(0) zlib(text).
pub fn ztext(keyword: &str, text: &[u8]) -> Vec<u8> {
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(text, 6);
    png_chunk(b"zTXt", &[keyword.as_bytes(), b"\0\0", &compressed].concat())
}

/// `iTXt` data, optionally compressed.
pub fn itext(keyword: &str, text: &str, compressed: bool) -> Vec<u8> {
    let body = if compressed {
        miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6)
    } else {
        text.as_bytes().to_vec()
    };
    let flag = u8::from(compressed);
    png_chunk(b"iTXt", &[keyword.as_bytes(), &[0, flag, 0], b"en\0", b"\0", &body].concat())
}

/// An 8×8 JPEG with APP1 segments (`payload` includes its identifier) inserted after SOI.
pub fn jpeg_with_app1(payloads: &[Vec<u8>]) -> Vec<u8> {
    let base = encoded(ImageFormat::Jpeg);
    let mut out = base[..2].to_vec();
    for payload in payloads {
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&base[2..]);
    out
}

/// A JPEG APP1 XMP payload.
pub fn jpeg_xmp(xmp: &str) -> Vec<u8> {
    [b"http://ns.adobe.com/xap/1.0/\0".as_slice(), xmp.as_bytes()].concat()
}

/// A JPEG APP1 EXIF payload.
pub fn jpeg_exif(tiff: &[u8]) -> Vec<u8> {
    [b"Exif\0\0".as_slice(), tiff].concat()
}

/// An extended-format WebP (VP8X header with the EXIF/XMP flags) wrapping the `image` crate's
/// lossless bitstream, plus `EXIF` and `XMP ` chunks.
pub fn webp_with(exif: Option<&[u8]>, xmp: Option<&str>) -> Vec<u8> {
    let base = encoded(ImageFormat::WebP);
    assert_eq!(&base[12..16], b"VP8L", "image encodes lossless WebP");
    let bitstream = &base[12..];
    let mut flags = 0u8;
    if exif.is_some() {
        flags |= 0x08;
    }
    if xmp.is_some() {
        flags |= 0x04;
    }
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&7u32.to_le_bytes()[..3]);
    vp8x.extend_from_slice(&7u32.to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    push_riff_chunk(&mut body, b"VP8X", &vp8x);
    body.extend_from_slice(bitstream);
    if let Some(exif) = exif {
        push_riff_chunk(&mut body, b"EXIF", exif);
    }
    if let Some(xmp) = xmp {
        push_riff_chunk(&mut body, b"XMP ", xmp.as_bytes());
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn push_riff_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

/// A little-endian TIFF block with IFD0 ASCII tags and, if given, an Exif sub-IFD holding a
/// `UserComment` (ASCII character code).
pub fn tiff(ascii_tags: &[(u16, &str)], user_comment: Option<&str>) -> Vec<u8> {
    let n = ascii_tags.len() + usize::from(user_comment.is_some());
    let ifd0_len = 2 + n * 12 + 4;
    let mut data_area = Vec::new();
    let data_start = 8 + ifd0_len;
    let mut entries = Vec::new();
    for (tag, value) in ascii_tags {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        let offset = data_start + data_area.len();
        entries.push((*tag, 2u16, bytes.len() as u32, offset as u32, bytes.len() <= 4, bytes.clone()));
        if bytes.len() > 4 {
            data_area.extend_from_slice(&bytes);
        }
    }
    let mut sub_ifd = Vec::new();
    if let Some(comment) = user_comment {
        let sub_offset = data_start + data_area.len();
        entries.push((0x8769, 4, 1, sub_offset as u32, true, (sub_offset as u32).to_le_bytes().to_vec()));
        let value = [b"ASCII\0\0\0".as_slice(), comment.as_bytes()].concat();
        let value_offset = sub_offset + 2 + 12 + 4;
        sub_ifd.extend_from_slice(&1u16.to_le_bytes());
        sub_ifd.extend_from_slice(&0x9286u16.to_le_bytes());
        sub_ifd.extend_from_slice(&7u16.to_le_bytes());
        sub_ifd.extend_from_slice(&(value.len() as u32).to_le_bytes());
        sub_ifd.extend_from_slice(&(value_offset as u32).to_le_bytes());
        sub_ifd.extend_from_slice(&0u32.to_le_bytes());
        sub_ifd.extend_from_slice(&value);
    }
    let mut out = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    out.extend_from_slice(&(n as u16).to_le_bytes());
    for (tag, kind, count, offset, inline, bytes) in &entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if *inline {
            let mut value = bytes.clone();
            value.resize(4, 0);
            out.extend_from_slice(&value);
        } else {
            out.extend_from_slice(&offset.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data_area);
    out.extend_from_slice(&sub_ifd);
    out
}

/// An XMP packet with one rdf:Description holding `body` (attributes and/or elements).
pub fn xmp_packet(attributes: &str, elements: &str) -> String {
    format!(
        r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
   xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" {attributes}>{elements}</rdf:Description>
</rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"#
    )
}

/// The IPTC digital source type URI for `code`.
pub fn dst(code: &str) -> String {
    format!("http://cv.iptc.org/newscodes/digitalsourcetype/{code}")
}

/// Decodes with the `image` crate: the builders must produce images a decoder accepts.
pub fn decodes(bytes: &[u8]) -> bool {
    image::load_from_memory(bytes).is_ok()
}
