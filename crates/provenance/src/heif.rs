//! EXIF and XMP inside HEIC/HEIF and AVIF files (issue 14), read through libheif (Debian
//! `libheif-dev`, via `libheif-rs`), behind the `heif` cargo feature.
//!
//! ISO/IEC 23008-12 (HEIF) stores metadata as items of the file's `meta` box linked to the image
//! they describe (`cdsc` reference): EXIF as an item of type `Exif` whose payload is a 4-byte
//! big-endian offset to the TIFF header followed by the block (Annex A.2.1), XMP as an item of
//! type `mime` with content type `application/rdf+xml` (A.2.2). AVIF uses the same structure
//! (AV1 Image File Format §2.1). libheif only parses the boxes here; nothing is decoded.
//!
//! Bounded like the other walkers: the number of images and metadata items looked at is capped by
//! [`Limits::max_chunks`], and an item's declared size is checked against the XMP / EXIF limits
//! before libheif copies it out.

use libheif_rs::{HeifContext, ItemId};

use crate::container::{EXIF_JPEG_ID, Metadata, push_xmp};
use crate::{Limits, MetadataError};

/// Largest EXIF item read (bytes); the same order as a JPEG APP1 segment's 64 KiB, with room for
/// maker notes that HEIF does not cap.
const MAX_EXIF_ITEM_BYTES: usize = 4 * 1024 * 1024;

/// Reads the EXIF and XMP items of every top-level image into `metadata`.
pub(crate) fn walk_heif(bytes: &[u8], limits: &Limits, metadata: &mut Metadata) -> Result<(), MetadataError> {
    let malformed = |e: libheif_rs::HeifError| MetadataError::Malformed {
        what: "HEIF container",
        // libheif's message names the box or item, never file text.
        detail: format!("{:?}", e.code),
    };
    let context = HeifContext::read_from_bytes(bytes).map_err(malformed)?;
    let images = context.number_of_top_level_images();
    if images > limits.max_chunks {
        return Err(MetadataError::LimitExceeded { what: "HEIF images per file", limit: limits.max_chunks });
    }
    let mut image_ids = vec![ItemId::default(); images];
    let images = context.top_level_image_ids(&mut image_ids);
    let mut items_seen = 0usize;
    for &image_id in &image_ids[..images] {
        let handle = context.image_handle(image_id).map_err(malformed)?;
        // A zero byte means "no filter": every metadata item of the image.
        let count = usize::try_from(handle.number_of_metadata_blocks(0u32)).unwrap_or(0);
        items_seen += count;
        if items_seen > limits.max_chunks {
            return Err(MetadataError::LimitExceeded { what: "HEIF metadata items", limit: limits.max_chunks });
        }
        let mut ids = vec![ItemId::default(); count];
        let count = handle.metadata_block_ids(&mut ids, 0u32);
        for &id in &ids[..count] {
            let size = handle.metadata_size(id);
            match handle.metadata_type(id) {
                Some("Exif") => {
                    if size > MAX_EXIF_ITEM_BYTES {
                        return Err(MetadataError::LimitExceeded {
                            what: "HEIF Exif item bytes",
                            limit: MAX_EXIF_ITEM_BYTES,
                        });
                    }
                    let item = handle.metadata(id).map_err(malformed)?;
                    metadata.exif.push(exif_payload(&item)?.to_vec());
                }
                Some("mime") if is_xmp(handle.metadata_content_type(id)) => {
                    if size > limits.max_xmp_bytes {
                        metadata.xmp_errors.push(MetadataError::LimitExceeded {
                            what: "XMP packet bytes",
                            limit: limits.max_xmp_bytes,
                        });
                        continue;
                    }
                    let item = handle.metadata(id).map_err(malformed)?;
                    push_xmp(&item, limits, metadata);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn is_xmp(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.trim().eq_ignore_ascii_case("application/rdf+xml"))
}

/// The TIFF block of an `Exif` item: after the 4-byte offset field and the `offset` bytes it
/// skips (writers put JPEG's `Exif\0\0` there, or nothing). A block that still starts with
/// `Exif\0\0` (some writers count the offset from after it) is accepted too.
fn exif_payload(item: &[u8]) -> Result<&[u8], MetadataError> {
    let Some((head, rest)) = item.split_first_chunk::<4>() else {
        return Err(MetadataError::Truncated { what: "HEIF Exif item", offset: 0, needed: 4, available: item.len() });
    };
    let offset = u32::from_be_bytes(*head);
    let block = usize::try_from(offset).ok().and_then(|o| rest.get(o..)).ok_or(MetadataError::Truncated {
        what: "HEIF Exif item",
        offset: 4,
        needed: u64::from(offset),
        available: rest.len(),
    })?;
    Ok(block.strip_prefix(EXIF_JPEG_ID).unwrap_or(block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_item_offset_is_honoured_and_bounded() {
        let tiff = b"MM\0*\0\0\0\x08";
        let mut with_prefix = 6u32.to_be_bytes().to_vec();
        with_prefix.extend_from_slice(EXIF_JPEG_ID);
        with_prefix.extend_from_slice(tiff);
        assert_eq!(exif_payload(&with_prefix).unwrap(), tiff);
        let mut plain = 0u32.to_be_bytes().to_vec();
        plain.extend_from_slice(tiff);
        assert_eq!(exif_payload(&plain).unwrap(), tiff);
        let mut counted_after = 0u32.to_be_bytes().to_vec();
        counted_after.extend_from_slice(EXIF_JPEG_ID);
        counted_after.extend_from_slice(tiff);
        assert_eq!(exif_payload(&counted_after).unwrap(), tiff);
        let mut past_end = u32::MAX.to_be_bytes().to_vec();
        past_end.extend_from_slice(tiff);
        assert!(matches!(exif_payload(&past_end), Err(MetadataError::Truncated { .. })));
        assert!(matches!(exif_payload(b"\0\0"), Err(MetadataError::Truncated { .. })));
    }
}
