//! Roles of API keys and accounts (design.md §3).
//!
//! Trusted flaggers (DSA Art. 22) and authorities (Art. 9 orders) are identified by their key; the
//! platform's own systems screen uploads; staff review, decide and audit.

use serde::Serialize;

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A trusted flagger (Art. 22): priority notices.
    TrustedFlagger,
    /// An authority: orders with deadlines.
    Authority,
    /// The platform's own systems: upload screening, webhooks.
    Platform,
    /// Reviews cases and decides.
    Reviewer,
    /// Decides appeals; may open evidence.
    SeniorReviewer,
    /// Manages keys, banks and settings.
    Admin,
    /// Read-only: audit log and reports.
    Auditor,
    /// A helpline caseworker: help cases, removal requests to platforms, the league table
    /// (helpline mode, issue 13).
    Caseworker,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::TrustedFlagger,
        Role::Authority,
        Role::Platform,
        Role::Reviewer,
        Role::SeniorReviewer,
        Role::Admin,
        Role::Auditor,
        Role::Caseworker,
    ];

    /// Storage and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TrustedFlagger => "trusted_flagger",
            Role::Authority => "authority",
            Role::Platform => "platform",
            Role::Reviewer => "reviewer",
            Role::SeniorReviewer => "senior_reviewer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Caseworker => "caseworker",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
