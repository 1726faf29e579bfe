//! EXIF reader: the TIFF IFD0 tags `Make`, `Model`, `Software`, `ImageDescription` and the Exif
//! sub-IFD's `UserComment` (where Stable Diffusion web UIs write their generation parameters in
//! JPEG and WebP output; ComfyUI's image savers put their node graphs in `Make`, `Model` or
//! `ImageDescription`). `UserComment` is also read from IFD0 and with type BYTE or ASCII, because
//! some tools write the AUTOMATIC1111 parameters there (issue 14).
//!
//! Implements the TIFF 6.0 IFD layout as used by EXIF 3.0 (CIPA DC-008) §4.6. Hand-written and
//! deliberately small: one IFD plus one level of sub-IFD (no recursion, so nesting is bounded by
//! construction), entry counts capped by [`Limits::max_ifd_entries`], every offset checked
//! against the block.

use crate::{Limits, MetadataError};

const TAG_IMAGE_DESCRIPTION: u16 = 0x010E;
const TAG_MAKE: u16 = 0x010F;
const TAG_MODEL: u16 = 0x0110;
const TAG_SOFTWARE: u16 = 0x0131;
const TAG_EXIF_IFD: u16 = 0x8769;
const TAG_USER_COMMENT: u16 = 0x9286;

const TYPE_BYTE: u16 = 1;
const TYPE_ASCII: u16 = 2;
const TYPE_LONG: u16 = 4;
const TYPE_UNDEFINED: u16 = 7;

/// An EXIF tag we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// 0x010F `Make`: camera manufacturer.
    Make,
    /// 0x0110 `Model`: camera model.
    Model,
    /// 0x0131 `Software`: the software that last wrote the file.
    Software,
    /// 0x010E `ImageDescription`: free text (read only to recognise generator graphs).
    ImageDescription,
    /// 0x9286 `UserComment` (Exif sub-IFD).
    UserComment,
}

impl Tag {
    /// The EXIF tag name, used as signal key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Make => "Make",
            Self::Model => "Model",
            Self::Software => "Software",
            Self::ImageDescription => "ImageDescription",
            Self::UserComment => "UserComment",
        }
    }
}

#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

/// One IFD entry: tag, field type, and the value bytes (resolved through the offset if needed).
type Entry<'a> = (u16, u16, &'a [u8]);

struct Tiff<'a> {
    bytes: &'a [u8],
    order: Order,
}

impl Tiff<'_> {
    fn u16_at(&self, offset: usize) -> Result<u16, MetadataError> {
        let b = self.get(offset, 2, "EXIF field")?;
        Ok(match self.order {
            Order::Little => u16::from_le_bytes([b[0], b[1]]),
            Order::Big => u16::from_be_bytes([b[0], b[1]]),
        })
    }

    fn u32_at(&self, offset: usize) -> Result<u32, MetadataError> {
        let b = self.get(offset, 4, "EXIF field")?;
        Ok(match self.order {
            Order::Little => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Order::Big => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        })
    }

    fn get(&self, offset: usize, len: usize, what: &'static str) -> Result<&[u8], MetadataError> {
        offset.checked_add(len).and_then(|end| self.bytes.get(offset..end)).ok_or(MetadataError::Truncated {
            what,
            offset,
            needed: len as u64,
            available: self.bytes.len().saturating_sub(offset),
        })
    }

    /// Reads one IFD: `(tag, type, count, value bytes)` for each entry, values resolved through
    /// their offsets when longer than 4 bytes.
    fn ifd(&self, offset: usize, limits: &Limits) -> Result<Vec<Entry<'_>>, MetadataError> {
        let count = usize::from(self.u16_at(offset)?);
        if count > limits.max_ifd_entries {
            return Err(MetadataError::LimitExceeded { what: "EXIF IFD entries", limit: limits.max_ifd_entries });
        }
        let mut entries = Vec::with_capacity(count);
        for index in 0..count {
            let entry = offset + 2 + index * 12;
            let tag = self.u16_at(entry)?;
            let kind = self.u16_at(entry + 2)?;
            let n = self.u32_at(entry + 4)?;
            let unit = match kind {
                1 | 2 | 6 | 7 => 1u64,
                3 | 8 => 2,
                4 | 9 | 11 => 4,
                5 | 10 | 12 => 8,
                // Unknown types are skipped (TIFF 6.0 §2: readers should ignore them).
                _ => continue,
            };
            let len = u64::from(n) * unit;
            let value = if len <= 4 {
                // `len` ≤ 4 here, so the cast cannot truncate.
                self.get(entry + 8, len as usize, "EXIF inline value")?
            } else {
                let at = self.u32_at(entry + 8)? as usize;
                let len = usize::try_from(len).map_err(|_| MetadataError::Truncated {
                    what: "EXIF value",
                    offset: at,
                    needed: len,
                    available: self.bytes.len().saturating_sub(at),
                })?;
                self.get(at, len, "EXIF value")?
            };
            entries.push((tag, kind, value));
        }
        Ok(entries)
    }
}

/// Reads the tags of interest from an EXIF block (starting at the TIFF byte-order mark).
///
/// # Errors
/// [`MetadataError`] when the header is not TIFF, an offset points outside the block, or an IFD
/// has more entries than the limit.
pub fn parse(block: &[u8], limits: &Limits) -> Result<Vec<(Tag, String)>, MetadataError> {
    let order = match block.get(0..4) {
        Some([b'I', b'I', 42, 0]) => Order::Little,
        Some([b'M', b'M', 0, 42]) => Order::Big,
        _ => {
            return Err(MetadataError::Malformed { what: "EXIF header", detail: "no TIFF byte-order mark".to_owned() });
        }
    };
    let tiff = Tiff { bytes: block, order };
    let ifd0 = tiff.u32_at(4)? as usize;
    let mut found = Vec::new();
    let mut exif_ifd = None;
    for (tag, kind, value) in tiff.ifd(ifd0, limits)? {
        match (tag, kind) {
            (TAG_MAKE, TYPE_ASCII) => push_ascii(&mut found, Tag::Make, value),
            (TAG_MODEL, TYPE_ASCII) => push_ascii(&mut found, Tag::Model, value),
            (TAG_SOFTWARE, TYPE_ASCII) => push_ascii(&mut found, Tag::Software, value),
            (TAG_IMAGE_DESCRIPTION, TYPE_ASCII) => push_ascii(&mut found, Tag::ImageDescription, value),
            // Not where EXIF puts it, but where some tools write the parameters.
            (TAG_USER_COMMENT, TYPE_BYTE | TYPE_ASCII | TYPE_UNDEFINED) => push_user_comment(&mut found, value),
            (TAG_EXIF_IFD, TYPE_LONG) if value.len() == 4 => exif_ifd = Some(tiff.u32_at_slice(value)),
            _ => {}
        }
    }
    // One level of sub-IFD only; a pointer back to IFD0 is harmless (read once, no loop).
    if let Some(offset) = exif_ifd {
        for (tag, kind, value) in tiff.ifd(offset as usize, limits)? {
            if tag == TAG_USER_COMMENT && matches!(kind, TYPE_BYTE | TYPE_ASCII | TYPE_UNDEFINED) {
                push_user_comment(&mut found, value);
            }
        }
    }
    Ok(found)
}

impl Tiff<'_> {
    fn u32_at_slice(&self, value: &[u8]) -> u32 {
        let b = [value[0], value[1], value[2], value[3]];
        match self.order {
            Order::Little => u32::from_le_bytes(b),
            Order::Big => u32::from_be_bytes(b),
        }
    }
}

fn push_ascii(found: &mut Vec<(Tag, String)>, tag: Tag, value: &[u8]) {
    // ASCII values are NUL-terminated; some writers pad with several NULs or spaces.
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let text = String::from_utf8_lossy(&value[..end]);
    let text = text.trim();
    if !text.is_empty() {
        found.push((tag, text.to_owned()));
    }
}

fn push_user_comment(found: &mut Vec<(Tag, String)>, value: &[u8]) {
    let text = user_comment(value);
    if !text.trim().is_empty() {
        found.push((Tag::UserComment, text.trim().to_owned()));
    }
}

/// `UserComment` starts with an 8-byte character-code prefix (EXIF 3.0 §4.6.5, Table 9).
fn user_comment(value: &[u8]) -> String {
    let (code, text) = value.split_at(value.len().min(8));
    match code {
        // Without a character-code prefix (BYTE/ASCII writers): the whole value is the text.
        _ if !matches!(code, b"UNICODE\0" | b"ASCII\0\0\0" | b"JIS\0\0\0\0\0" | b"\0\0\0\0\0\0\0\0") => {
            String::from_utf8_lossy(value).trim_end_matches('\0').to_owned()
        }
        b"UNICODE\0" => {
            // UCS-2 in the file's byte order per the spec, but writers disagree (piexif, used
            // by the Stable Diffusion web UIs, writes big-endian). Pick the order whose
            // decoding has fewer NULs in the high byte positions of ASCII text.
            let units = |big: bool| -> Vec<u16> {
                text.chunks_exact(2)
                    .map(|p| if big { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) })
                    .collect()
            };
            let big = units(true);
            let little = units(false);
            let ascii = |units: &[u16]| units.iter().filter(|&&u| u < 0x80).count();
            let chosen = if ascii(&big) >= ascii(&little) { big } else { little };
            String::from_utf16_lossy(&chosen).trim_end_matches('\0').to_owned()
        }
        _ => String::from_utf8_lossy(text).trim_end_matches('\0').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_tiff() {
        assert!(matches!(parse(b"JUNKJUNK", &Limits::default()), Err(MetadataError::Malformed { .. })));
        assert!(matches!(parse(b"II", &Limits::default()), Err(MetadataError::Malformed { .. })));
    }

    #[test]
    fn ifd_offset_outside_block_is_truncated() {
        let block = [b'I', b'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F];
        assert!(matches!(parse(&block, &Limits::default()), Err(MetadataError::Truncated { .. })));
    }

    #[test]
    fn huge_entry_count_is_a_limit_error() {
        let mut block = vec![b'M', b'M', 0, 42, 0, 0, 0, 8];
        block.extend_from_slice(&0xFFFFu16.to_be_bytes());
        assert!(matches!(parse(&block, &Limits::default()), Err(MetadataError::LimitExceeded { .. })));
    }

    #[test]
    fn value_with_huge_count_is_truncated_not_allocated() {
        let mut block = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0];
        block.extend_from_slice(&TAG_SOFTWARE.to_le_bytes());
        block.extend_from_slice(&TYPE_ASCII.to_le_bytes());
        block.extend_from_slice(&u32::MAX.to_le_bytes());
        block.extend_from_slice(&26u32.to_le_bytes());
        assert!(matches!(parse(&block, &Limits::default()), Err(MetadataError::Truncated { .. })));
    }

    #[test]
    fn user_comment_in_ifd0_with_type_byte_is_read() {
        let text = b"a prompt\nSteps: 20, Sampler: Euler a, Seed: 1";
        let mut block = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0];
        block.extend_from_slice(&TAG_USER_COMMENT.to_le_bytes());
        block.extend_from_slice(&TYPE_BYTE.to_le_bytes());
        block.extend_from_slice(&(text.len() as u32).to_le_bytes());
        block.extend_from_slice(&26u32.to_le_bytes());
        block.extend_from_slice(&[0, 0, 0, 0]);
        block.extend_from_slice(text);
        let found = parse(&block, &Limits::default()).unwrap();
        assert_eq!(found, vec![(Tag::UserComment, String::from_utf8_lossy(text).into_owned())]);
    }

    #[test]
    fn user_comment_encodings() {
        assert_eq!(user_comment(b"ASCII\0\0\0hello\0"), "hello");
        let mut be = b"UNICODE\0".to_vec();
        be.extend("Steps: 20".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(user_comment(&be), "Steps: 20");
        let mut le = b"UNICODE\0".to_vec();
        le.extend("Steps: 20".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(user_comment(&le), "Steps: 20");
    }
}
