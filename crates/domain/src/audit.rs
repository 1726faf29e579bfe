//! The hash-chained audit log: every state change, tamper-evident.
//!
//! Each entry carries the SHA-256 of the previous entry's hash and its own fields, so changing,
//! removing or reordering any row breaks the chain from that row on. Entries never carry notifier
//! personal data, so erasing that data (GDPR) never breaks the chain. Accountability for DSA
//! Art. 16, 17, 20 and 24 (every timestamp the transparency report needs is here too).

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who: `public`, `key:<id>`, `system`.
    pub actor: String,
    /// What, e.g. `notice.received`.
    pub action: String,
    /// On what, e.g. `notice:<id>`.
    pub subject: String,
    /// Details as JSON text, without personal data.
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Computes an entry's hash from the previous hash and its fields. Fields are length-prefixed so
/// that no two different entries serialise to the same bytes.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for field in [actor, action, subject, detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why verification failed, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditBreak {
    /// A sequence number is missing (a row was removed) or out of place (rows reordered).
    Gap {
        /// The sequence number expected here.
        expected_seq: i64,
        /// The one found.
        found_seq: i64,
    },
    /// The entry does not point at the previous entry's hash.
    BrokenLink {
        /// The entry.
        seq: i64,
    },
    /// The entry's fields do not hash to its stored hash (it was changed).
    Altered {
        /// The entry.
        seq: i64,
    },
    /// The chain is shorter than the recorded head (trailing rows were removed).
    Truncated {
        /// Last sequence number found.
        last_seq: i64,
        /// The head's sequence number.
        head_seq: i64,
    },
    /// The head record does not match the last entry.
    HeadMismatch,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { expected_seq, found_seq } => {
                write!(f, "entry {expected_seq} is missing or out of place (found {found_seq} there)")
            }
            Self::BrokenLink { seq } => write!(f, "entry {seq} does not link to the entry before it"),
            Self::Altered { seq } => write!(f, "entry {seq} was changed after it was written"),
            Self::Truncated { last_seq, head_seq } => {
                write!(f, "entries after {last_seq} were removed (the head says {head_seq})")
            }
            Self::HeadMismatch => write!(f, "the chain head does not match the last entry"),
        }
    }
}

/// Incremental verifier: feed entries in stored order, then `finish` with the recorded head.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS.to_owned() }
    }
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), AuditBreak> {
        if e.seq != self.expected_seq {
            return Err(AuditBreak::Gap { expected_seq: self.expected_seq, found_seq: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(AuditBreak::BrokenLink { seq: e.seq });
        }
        if entry_hash(&e.prev_hash, e.seq, e.at_ms, &e.actor, &e.action, &e.subject, &e.detail) != e.hash {
            return Err(AuditBreak::Altered { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Number of entries checked.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Compares the end of the chain with the recorded head (`None` when no head was recorded,
    /// i.e. an empty log).
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<i64, AuditBreak> {
        let last = self.expected_seq - 1;
        match head {
            None if last == 0 => Ok(0),
            None => Err(AuditBreak::HeadMismatch),
            Some((head_seq, _)) if head_seq > last => Err(AuditBreak::Truncated { last_seq: last, head_seq }),
            Some((head_seq, head_hash)) if head_seq != last || head_hash != self.prev_hash => {
                Err(AuditBreak::HeadMismatch)
            }
            Some(_) => Ok(last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let (actor, action, subject, detail) = ("system", "notice.received", format!("notice:{seq}"), "{}");
                let hash = entry_hash(&prev, seq, 1000 + seq, actor, action, &subject, detail);
                let e = AuditEntry {
                    seq,
                    at_ms: 1000 + seq,
                    actor: actor.into(),
                    action: action.into(),
                    subject,
                    detail: detail.into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<i64, AuditBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, Some((5, &c[4].hash))), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn changes_removals_swaps_and_truncation_are_found() {
        let c = chain(5);
        let head = Some((5, c[4].hash.as_str()));
        let mut changed = c.clone();
        changed[2].detail = "{\"x\":1}".into();
        assert_eq!(verify(&changed, head), Err(AuditBreak::Altered { seq: 3 }));
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head), Err(AuditBreak::Gap { expected_seq: 2, found_seq: 3 }));
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert_eq!(verify(&swapped, head), Err(AuditBreak::Gap { expected_seq: 2, found_seq: 3 }));
        // Swapping the contents but keeping the sequence numbers breaks the links instead.
        let mut swapped_contents = c.clone();
        let (s1, s2) = (swapped_contents[1].seq, swapped_contents[2].seq);
        swapped_contents.swap(1, 2);
        swapped_contents[1].seq = s1;
        swapped_contents[2].seq = s2;
        assert_eq!(verify(&swapped_contents, head), Err(AuditBreak::BrokenLink { seq: 2 }));
        assert_eq!(verify(&c[..4], head), Err(AuditBreak::Truncated { last_seq: 4, head_seq: 5 }));
    }
}
