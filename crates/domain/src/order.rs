//! Orders from authorities: DSA Art. 9 orders to act, ATKM instructions (child sexual abuse
//! material, terrorist content) and art. 125p Sv orders of the public prosecutor.
//!
//! An order arrives through the same intake as a notice, from an authority's key, with the
//! elements Art. 9(2) requires (legal basis, reference, issuing authority) and an optional deadline
//! that the policy honours when it is earlier than its own (specs/dsa.md §2, §5).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::notice::{check_len, trimmed};
use crate::validation::FieldErrors;

/// The kind of authority order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// DSA Art. 9 order to act against illegal content.
    DsaArt9,
    /// ATKM instruction (aanwijzing) to remove child sexual abuse material.
    AtkmCsam,
    /// ATKM removal order for terrorist content (Reg. (EU) 2021/784, 1 hour).
    AtkmTerrorist,
    /// Order of the public prosecutor under art. 125p Wetboek van Strafvordering.
    #[serde(rename = "sv_125p")]
    Sv125p,
}

impl OrderKind {
    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DsaArt9 => "dsa_art9",
            Self::AtkmCsam => "atkm_csam",
            Self::AtkmTerrorist => "atkm_terrorist",
            Self::Sv125p => "sv_125p",
        }
    }
}

/// An authority order as submitted.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDraft {
    /// Kind of order.
    pub kind: Option<OrderKind>,
    /// The issuing authority, e.g. "ATKM".
    pub issuing_authority: Option<String>,
    /// Member State of the issuing authority (ISO 3166-1 alpha-2).
    pub member_state: Option<String>,
    /// The authority's own reference.
    pub reference: Option<String>,
    /// Legal basis cited by the order.
    pub legal_basis: Option<String>,
    /// Deadline set by the order (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub deadline: Option<OffsetDateTime>,
}

/// A validated authority order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorityOrder {
    /// Kind.
    pub kind: OrderKind,
    /// Issuing authority.
    pub issuing_authority: String,
    /// Member State.
    pub member_state: String,
    /// The authority's reference.
    pub reference: String,
    /// Legal basis.
    pub legal_basis: String,
    /// Deadline set by the order, if any.
    pub deadline: Option<OffsetDateTime>,
}

pub(crate) fn validate_order(
    errors: &mut FieldErrors,
    o: OrderDraft,
    authority_name: &str,
    now: OffsetDateTime,
) -> Option<AuthorityOrder> {
    let kind = o.kind;
    if kind.is_none() {
        errors.required("order.kind", "one of dsa_art9, atkm_csam, atkm_terrorist, sv_125p");
    }
    let reference = trimmed(o.reference);
    if reference.is_none() {
        errors.required("order.reference", "the authority's reference for this order");
    }
    let legal_basis = trimmed(o.legal_basis);
    if legal_basis.is_none() {
        errors.required("order.legal_basis", "the legal basis of the order (DSA Art. 9(2)(a))");
    }
    let member_state = trimmed(o.member_state).unwrap_or_else(|| "NL".to_owned()).to_ascii_uppercase();
    if member_state.len() != 2 || !member_state.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push("order.member_state", "invalid", "must be a two-letter country code, e.g. NL");
    }
    if let Some(deadline) = o.deadline
        && deadline <= now
    {
        errors.push("order.deadline", "invalid", "must be in the future");
    }
    for (field, value) in [("order.reference", &reference), ("order.legal_basis", &legal_basis)] {
        if let Some(v) = value {
            check_len(errors, field, v, 500);
        }
    }
    Some(AuthorityOrder {
        kind: kind?,
        issuing_authority: trimmed(o.issuing_authority).unwrap_or_else(|| authority_name.to_owned()),
        member_state,
        reference: reference?,
        legal_basis: legal_basis?,
        deadline: o.deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_kinds_have_the_documented_wire_names() {
        for (kind, name) in [
            (OrderKind::DsaArt9, "dsa_art9"),
            (OrderKind::AtkmCsam, "atkm_csam"),
            (OrderKind::AtkmTerrorist, "atkm_terrorist"),
            (OrderKind::Sv125p, "sv_125p"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<OrderKind>(&format!("\"{name}\"")).unwrap(), kind);
        }
    }
}
