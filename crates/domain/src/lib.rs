//! staydown's domain: notices, cases, policy, the audit chain — the DSA's notice-and-action rules
//! as plain Rust values.
//!
//! No I/O and no clock: time, randomness and stored state are passed in. Validation returns every
//! field problem at once (`FieldErrors`). Article by article: Art. 16 in `notice`, Art. 22 and the
//! deadlines in `policy`, the case life cycle (Art. 17 decisions, Art. 20 appeals) in `case`,
//! accountability in `audit`, hash banks and upload screening (stay-down) in `bank`, the Transparency
//! Database's vocabulary (Art. 24(5)) in `taxonomy` and its statement-of-reasons API shape, validation
//! and normalisation in `tdb`.
#![deny(missing_docs)]

pub mod appeal;
pub mod audit;
pub mod bank;
pub mod case;
pub mod dates;
pub mod decision;
pub mod helpline;
pub mod legal_grounds;
pub mod misuse;
pub mod notice;
pub mod order;
pub mod policy;
pub mod roles;
pub mod scrub;
pub mod statement;
pub mod taxonomy;
pub mod tdb;
pub mod transparency;
pub mod validation;

use sha2::{Digest, Sha256};

/// Digest under which a high-entropy secret (API key, tracking token) is stored. Plain SHA-256 is
/// right here: the secrets are 256-bit random values, so there is nothing to brute-force, and a
/// lookup by digest needs a deterministic function (argon2 is for passwords).
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
