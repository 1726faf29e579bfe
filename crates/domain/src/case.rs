//! Cases: the unit of review that groups notices on the same content.
//!
//! State machine `new → in_review → decided → (appealed → re-decided) → closed` (design.md §4);
//! the decision itself is DSA Art. 17, the appeal Art. 20. Grouping keys decide which notices
//! share a case: the same platform content id, the same URL after normalisation, or the same hash.

use serde::Serialize;

use crate::notice::NewNotice;

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Waiting in the queue.
    New,
    /// A reviewer has taken it.
    InReview,
    /// Decided (Art. 17).
    Decided,
    /// An appeal is open (Art. 20).
    Appealed,
    /// The appeal was decided.
    Redecided,
    /// Nothing more will happen.
    Closed,
}

impl CaseState {
    /// Storage and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InReview => "in_review",
            Self::Decided => "decided",
            Self::Appealed => "appealed",
            Self::Redecided => "redecided",
            Self::Closed => "closed",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::New, Self::InReview, Self::Decided, Self::Appealed, Self::Redecided, Self::Closed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Whether the case still waits for a first decision (and so sits in the review queue).
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::InReview)
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(self, to: Self) -> bool {
        use CaseState::*;
        matches!(
            (self, to),
            (New, InReview)
                | (InReview, New)
                | (New | InReview, Decided)
                | (Decided, Appealed)
                | (Redecided, Appealed)
                | (Appealed, Redecided)
                | (Decided | Redecided, Closed)
        )
    }
}

/// A refused state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    /// From.
    pub from: CaseState,
    /// To.
    pub to: CaseState,
}

impl std::fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a case in state {} cannot become {}", self.from.as_str(), self.to.as_str())
    }
}

impl std::error::Error for InvalidTransition {}

/// Checks a transition.
pub fn transition(from: CaseState, to: CaseState) -> Result<CaseState, InvalidTransition> {
    if from.can_become(to) { Ok(to) } else { Err(InvalidTransition { from, to }) }
}

/// The keys under which a notice joins an existing open case: `url:…`, `content:…`, `sha256:…`,
/// `md5:…`, `pdq:…`. Near-duplicate PDQ matches are the match index's job, not grouping's.
pub fn grouping_keys(notice: &NewNotice) -> Vec<String> {
    let mut keys = Vec::new();
    for loc in &notice.locations {
        if let Some(u) = &loc.normalized_url {
            keys.push(format!("url:{u}"));
        }
        if let Some(c) = &loc.content_id {
            keys.push(format!("content:{c}"));
        }
    }
    for h in &notice.hashes {
        for (kind, value) in [("sha256", &h.sha256), ("md5", &h.md5), ("pdq", &h.pdq)] {
            if let Some(v) = value {
                keys.push(format!("{kind}:{v}"));
            }
        }
        // Two reports of the same video by fingerprint carry the same normalised vPDQ.
        if let Some(v) = &h.video {
            use sha2::Digest as _;
            keys.push(format!("vpdq:{}", hex::encode(sha2::Sha256::digest(v.vpdq.as_bytes()))));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        use CaseState::*;
        let all = [New, InReview, Decided, Appealed, Redecided, Closed];
        let allowed: Vec<(CaseState, CaseState)> =
            all.iter().flat_map(|&a| all.iter().map(move |&b| (a, b))).filter(|&(a, b)| a.can_become(b)).collect();
        assert_eq!(
            allowed,
            vec![
                (New, InReview),
                (New, Decided),
                (InReview, New),
                (InReview, Decided),
                (Decided, Appealed),
                (Decided, Closed),
                (Appealed, Redecided),
                (Redecided, Appealed),
                (Redecided, Closed),
            ]
        );
        assert_eq!(transition(Closed, New), Err(InvalidTransition { from: Closed, to: New }));
    }
}
