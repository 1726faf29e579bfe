//! Encryption at rest for the bytes staydown keeps: content attached to a case, a helpline's
//! evidence files and screenshots.
//!
//! Owns the sealed format and the keyring, nothing else: no I/O beyond reading a key file, no
//! storage, no access logging (the store audits every read of a sealed blob). The design brief
//! (§8) asks for evidence encrypted at rest with retention and legal hold; GDPR Art. 32(1)(a) names
//! encryption as a measure for personal data.
//!
//! **Cipher.** AES-256-GCM (`aes-gcm`, RustCrypto) with a fresh random 96-bit nonce per seal, as
//! NIST SP 800-38D §8.2.2 allows for up to 2^32 messages per key. The caller's associated data
//! (for example the blob id) is authenticated, so a sealed value moved to another row fails to
//! open.
//!
//! **Sealed format** (version 1), all lengths in bytes:
//! `b"SDV1" | key-id length (1) | key id (1–64, ASCII) | nonce (12) | ciphertext ‖ tag (16)`.
//!
//! **Keyring.** Several keys, each with a short id; the first is the one that seals, every key
//! opens what it sealed, so keys rotate by putting a new key first and keeping the old ones until
//! every blob has been re-sealed. Key file: one key per line, `ID BASE64` (32 bytes of key,
//! standard base64), `#` comments and blank lines ignored.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore as _;

const MAGIC: &[u8; 4] = b"SDV1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const MAX_ID_LEN: usize = 64;

/// Errors of the vault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    /// The keyring has no key.
    #[error("the keyring is empty: configure at least one key")]
    NoKeys,
    /// A key id is empty, too long, not ASCII letters/digits/`-`/`_`, or used twice.
    #[error("bad key id `{0}`: 1-64 ASCII letters, digits, '-' or '_', each id once")]
    BadKeyId(String),
    /// Key material is not base64 of exactly 32 bytes.
    #[error("key `{0}` is not base64 of exactly 32 bytes")]
    BadKey(String),
    /// A key file line is not `ID BASE64`.
    #[error("key file line {0}: expected `ID BASE64`")]
    BadLine(usize),
    /// The key file could not be read.
    #[error("cannot read key file: {0}")]
    Io(String),
    /// The sealed value is not in the v1 format (truncated or not sealed by staydown).
    #[error("not a sealed value (wrong header or truncated)")]
    Malformed,
    /// The sealed value names a key this keyring does not hold.
    #[error("sealed with key `{0}`, which is not in the keyring")]
    UnknownKey(String),
    /// Authentication failed: wrong key, wrong associated data, or tampered bytes.
    #[error("the sealed value failed authentication (tampered, or opened with the wrong key or context)")]
    Tampered,
}

/// One AES-256 key with its id.
#[derive(Clone)]
pub struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("id", &self.id).field("material", &"<redacted>").finish()
    }
}

impl Key {
    /// A key from 32 raw bytes.
    ///
    /// # Errors
    /// [`VaultError::BadKeyId`] for an id that is not 1–64 of `[A-Za-z0-9_-]`.
    pub fn from_bytes(id: &str, bytes: &[u8; KEY_LEN]) -> Result<Self, VaultError> {
        let valid_id = !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_id {
            return Err(VaultError::BadKeyId(id.to_owned()));
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| VaultError::BadKey(id.to_owned()))?;
        Ok(Self { id: id.to_owned(), cipher })
    }

    /// A key from standard base64 of 32 bytes.
    ///
    /// # Errors
    /// [`VaultError::BadKey`] when the text is not base64 of exactly 32 bytes; see [`Key::from_bytes`].
    pub fn from_base64(id: &str, text: &str) -> Result<Self, VaultError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| VaultError::BadKey(id.to_owned()))?;
        let bytes: [u8; KEY_LEN] = raw.try_into().map_err(|_| VaultError::BadKey(id.to_owned()))?;
        Self::from_bytes(id, &bytes)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A fresh random 32-byte key as standard base64 (for `staydown vault keygen` and tests).
pub fn generate_key_base64() -> String {
    let mut bytes = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Keys that open sealed values; the first one seals.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl Keyring {
    /// A keyring from keys; the first seals.
    ///
    /// # Errors
    /// [`VaultError::NoKeys`] for none, [`VaultError::BadKeyId`] for an id used twice.
    pub fn new(keys: Vec<Key>) -> Result<Self, VaultError> {
        if keys.is_empty() {
            return Err(VaultError::NoKeys);
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|other| other.id == k.id) {
                return Err(VaultError::BadKeyId(k.id.clone()));
            }
        }
        Ok(Self { keys })
    }

    /// Parses a key file's text (`ID BASE64` per line, `#` comments).
    ///
    /// # Errors
    /// [`VaultError::BadLine`] naming the 1-based line, or the errors of [`Key::from_base64`] and
    /// [`Keyring::new`].
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(id), Some(material), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(VaultError::BadLine(n + 1));
            };
            keys.push(Key::from_base64(id, material)?);
        }
        Self::new(keys)
    }

    /// Reads and parses a key file.
    ///
    /// # Errors
    /// [`VaultError::Io`] when it cannot be read; see [`Keyring::parse`].
    pub fn from_file(path: &std::path::Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path).map_err(|e| VaultError::Io(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// The id of the key that seals.
    pub fn active_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Seals `plaintext` with the active key, binding `context` (e.g. the blob's id) as associated data.
    /// The result is `plaintext.len() + 33 + id length` bytes long.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = key
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail below 64 GiB");
        let mut out = Vec::with_capacity(MAGIC.len() + 1 + key.id.len() + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.push(key.id.len() as u8);
        out.extend_from_slice(key.id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed by [`Keyring::seal`] with the same `context`.
    ///
    /// # Errors
    /// [`VaultError::Malformed`], [`VaultError::UnknownKey`] or [`VaultError::Tampered`].
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, VaultError> {
        let rest = sealed.strip_prefix(MAGIC.as_slice()).ok_or(VaultError::Malformed)?;
        let (&id_len, rest) = rest.split_first().ok_or(VaultError::Malformed)?;
        let id_len = usize::from(id_len);
        if id_len == 0 || id_len > MAX_ID_LEN || rest.len() < id_len + NONCE_LEN + TAG_LEN {
            return Err(VaultError::Malformed);
        }
        let (id, rest) = rest.split_at(id_len);
        let id = std::str::from_utf8(id).map_err(|_| VaultError::Malformed)?;
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| VaultError::UnknownKey(id.to_owned()))?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Malformed)?;
        key.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: context })
            .map_err(|_| VaultError::Tampered)
    }

    /// Whether `sealed` was sealed with a key other than the active one (re-seal it when rotating).
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        let Some(rest) = sealed.strip_prefix(MAGIC.as_slice()) else { return true };
        let Some((&id_len, rest)) = rest.split_first() else { return true };
        rest.get(..usize::from(id_len)) != Some(self.active_id().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[&str]) -> Keyring {
        Keyring::new(ids.iter().map(|id| Key::from_base64(id, &generate_key_base64()).unwrap()).collect()).unwrap()
    }

    #[test]
    fn round_trip_binds_the_context() {
        let ring = ring(&["k1"]);
        let sealed = ring.seal(b"evidence bytes", b"blob:1");
        assert_eq!(sealed.len(), b"evidence bytes".len() + 4 + 1 + 2 + 12 + 16);
        assert!(!sealed.windows(8).any(|w| w == b"evidence"), "plaintext visible in the sealed value");
        assert_eq!(ring.open(&sealed, b"blob:1").unwrap(), b"evidence bytes");
        assert_eq!(ring.open(&sealed, b"blob:2"), Err(VaultError::Tampered));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let ring = ring(&["k1"]);
        let sealed = ring.seal(b"x", b"");
        for byte in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[byte] ^= 0x01;
            assert!(ring.open(&bad, b"").is_err(), "flip in byte {byte} went unnoticed");
        }
    }

    #[test]
    fn two_seals_differ() {
        let ring = ring(&["k1"]);
        assert_ne!(ring.seal(b"same", b""), ring.seal(b"same", b""));
    }

    #[test]
    fn rotation_opens_old_values_and_seals_with_the_new_key() {
        let old = ring(&["old"]);
        let sealed = old.seal(b"v", b"c");
        let rotated = Keyring::new(vec![ring(&["new"]).keys[0].clone(), old.keys[0].clone()]).unwrap();
        assert!(rotated.needs_reseal(&sealed));
        assert_eq!(rotated.open(&sealed, b"c").unwrap(), b"v");
        assert!(!rotated.needs_reseal(&rotated.seal(b"v", b"c")));
        assert_eq!(ring(&["other"]).open(&sealed, b"c"), Err(VaultError::UnknownKey("old".into())));
    }

    #[test]
    fn truncated_and_foreign_values_are_malformed() {
        let ring = ring(&["k1"]);
        let sealed = ring.seal(b"abc", b"");
        assert_eq!(ring.open(&sealed[..10], b""), Err(VaultError::Malformed));
        assert_eq!(ring.open(b"PK\x03\x04 a zip file", b""), Err(VaultError::Malformed));
        assert_eq!(ring.open(b"", b""), Err(VaultError::Malformed));
    }

    #[test]
    fn key_files_are_parsed_strictly() {
        let a = generate_key_base64();
        let b = generate_key_base64();
        let ring = Keyring::parse(&format!("# keys\n\n2026-11 {a}\n2026-01 {b}\n")).unwrap();
        assert_eq!(ring.active_id(), "2026-11");
        assert_eq!(Keyring::parse("").unwrap_err(), VaultError::NoKeys);
        assert_eq!(Keyring::parse(&format!("k {a} extra")).unwrap_err(), VaultError::BadLine(1));
        assert_eq!(Keyring::parse("k c2hvcnQ=").unwrap_err(), VaultError::BadKey("k".into()));
        assert_eq!(Keyring::parse(&format!("k/1 {a}")).unwrap_err(), VaultError::BadKeyId("k/1".into()));
        assert_eq!(Keyring::parse(&format!("k {a}\nk {b}")).unwrap_err(), VaultError::BadKeyId("k".into()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("k {a}\n")).unwrap();
        assert_eq!(Keyring::from_file(&path).unwrap().active_id(), "k");
        assert!(matches!(Keyring::from_file(&dir.path().join("missing")), Err(VaultError::Io(_))));
    }

    #[test]
    fn debug_never_prints_key_material() {
        let key_text = generate_key_base64();
        let ring = Keyring::parse(&format!("k {key_text}")).unwrap();
        assert!(!format!("{ring:?}").contains(&key_text));
    }
}
