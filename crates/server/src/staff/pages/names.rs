//! Names a person reads instead of stored codes on the console's case page: who acted (the
//! account's user name or the API key's holder instead of `account:<uuid>`), a case's state, a
//! legal ground's title and article, and an audit entry's detail as `field: value` pairs instead of
//! JSON. The stored codes stay what the API and exports carry.

use std::collections::HashMap;

use staydown_store::Store;

use crate::pages::Ctx;
use crate::problem::ApiError;
use crate::staff::admin_pages::t;

/// Who acted, by principal (`account:<id>`, `key:<id>`, `public`, `system`…), as a person reads it.
#[derive(Debug)]
pub struct Principals {
    names: HashMap<String, String>,
}

impl Principals {
    /// Loads the accounts and API keys once per page.
    ///
    /// # Errors
    /// The store's error when either list cannot be read.
    pub async fn load(store: &Store, ctx: &Ctx) -> Result<Self, ApiError> {
        let mut names = HashMap::new();
        for a in store.list_accounts().await? {
            names.insert(format!("account:{}", a.id), a.username);
        }
        for k in store.list_api_keys(None).await? {
            names.insert(format!("key:{}", k.id), ctx.ta("staff-who-key", "name", k.name.as_str()));
        }
        names.insert("public".to_owned(), ctx.t("staff-who-public"));
        Ok(Self { names })
    }

    /// Learns the people behind console sessions named in `actors` (`key:session-<digest prefix>`,
    /// as the console's actions are audited), so [`Principals::name`] gives their user name.
    ///
    /// # Errors
    /// The store's error.
    pub async fn learn_sessions(&mut self, store: &Store, ctx: &Ctx, actors: &[String]) -> Result<(), ApiError> {
        for actor in actors {
            let Some(prefix) = actor.strip_prefix("key:session-") else { continue };
            if self.names.contains_key(actor) {
                continue;
            }
            if let Some(username) = store.session_username_by_digest_prefix(prefix).await? {
                self.names.insert(actor.clone(), ctx.ta("staff-who-session", "name", username.as_str()));
            }
        }
        Ok(())
    }

    /// The name for `principal`; an unknown one is shown as stored.
    pub fn name(&self, principal: &str) -> String {
        self.names.get(principal).cloned().unwrap_or_else(|| principal.to_owned())
    }
}

/// A case state (`in_review`…) in the page language.
pub fn case_state(ctx: &Ctx, state: &str) -> String {
    let key = match state {
        "new" => "staff-state-new",
        "in_review" => "staff-state-in-review",
        "decided" => "staff-state-decided",
        "appealed" => "staff-state-appealed",
        "redecided" => "staff-state-redecided",
        "closed" => "staff-state-closed",
        other => return other.to_owned(),
    };
    ctx.t(key)
}

/// A decision's status (`in_force`, `reversed`, `replaced`) in the page language.
pub fn decision_status(ctx: &Ctx, status: &str) -> String {
    let key = match status {
        "in_force" => "staff-decision-in-force",
        "reversed" => "staff-decision-reversed",
        "replaced" => "staff-decision-replaced",
        other => return other.to_owned(),
    };
    ctx.t(key)
}

/// A calendar date as a person reads it: "1 March 2027" / "1 maart 2027".
pub fn date(ctx: &Ctx, d: time::Date) -> String {
    format!("{} {} {}", d.day(), ctx.t(format!("month-{}", u8::from(d.month()))), d.year())
}

/// A legal ground id (`nl-sr-254ba`) as its title and article in the page language.
pub fn legal_ground(ctx: &Ctx, id: &str) -> String {
    staydown_domain::legal_grounds::LEGAL_GROUNDS.iter().find(|g| g.id == id).map_or_else(
        || id.to_owned(),
        |g| format!("{} — {}", if ctx.code() == "nl" { g.label.nl } else { g.label.en }, g.reference_in(ctx.code())),
    )
}

/// An audit action of a case's log (`case.opened`, `blob.read`, …) in the page language; an action
/// without words of its own is shown as its code.
pub fn audit_action(ctx: &Ctx, action: &str) -> String {
    let key = match action {
        "case.opened" => t("staff-audit-case-opened"),
        "case.notice_joined" => t("staff-audit-case-notice-joined"),
        "case.taken" => t("staff-audit-case-taken"),
        "case.decided" => t("staff-audit-case-decided"),
        "case.content_attached" => t("staff-audit-case-content-attached"),
        "case.content_linked" => t("staff-audit-case-content-linked"),
        "notifier.revealed" => t("staff-audit-notifier-revealed"),
        "blob.stored" => t("staff-audit-blob-stored"),
        "blob.read" => t("staff-audit-blob-read"),
        "blob.erased" => t("staff-audit-blob-erased"),
        "appeal.received" => t("staff-audit-appeal-received"),
        "appeal.decided" => t("staff-audit-appeal-decided"),
        "art18.notification" | "case.art18_notified" => t("staff-audit-art18"),
        other => return other.to_owned(),
    };
    ctx.t(key)
}

/// The label of an audit detail's field in the page language; a field without words of its own
/// keeps its name, with spaces for underscores.
fn audit_field(ctx: &Ctx, field: &str) -> String {
    let key = match field {
        "notice" => t("staff-audit-field-notice"),
        "priority" => t("staff-audit-field-priority"),
        "deadline" => t("staff-audit-field-deadline"),
        "item" => t("staff-audit-field-item"),
        "blob" => t("staff-audit-field-blob"),
        "sha256" => t("staff-audit-field-sha256"),
        "pdq" => t("staff-audit-field-pdq"),
        "content_id" => t("staff-audit-field-content-id"),
        "purpose" => t("staff-audit-field-purpose"),
        "reason" => t("staff-audit-field-reason"),
        "decision" => t("staff-audit-field-decision"),
        "new_decision" => t("staff-audit-field-new-decision"),
        "from" => t("staff-audit-field-from"),
        "first_pick_up" => t("staff-audit-field-first-pick-up"),
        "owner" => t("staff-audit-field-owner"),
        "kind" => t("staff-audit-field-kind"),
        "size" => t("staff-audit-field-size"),
        "key_id" => t("staff-audit-field-key-id"),
        "case" => t("staff-audit-field-case"),
        "outcome" => t("staff-audit-field-outcome"),
        "decided_by" => t("staff-audit-field-decided-by"),
        "notification" => t("staff-audit-field-notification"),
        "grounds" => t("staff-audit-field-grounds"),
        other => return other.replace('_', " "),
    };
    ctx.t(key)
}

/// The catalogue key of a coded audit value (why a file was opened, what kind of file it is).
fn audit_value(field: &str, value: &str) -> Option<&'static str> {
    Some(match (field, value) {
        ("purpose", "preview") => t("staff-audit-purpose-preview"),
        ("purpose", "reveal") => t("staff-audit-purpose-reveal"),
        ("purpose", "view") => t("staff-audit-purpose-view"),
        ("purpose", "export:police") => t("staff-audit-purpose-police"),
        ("kind", "content") => t("staff-audit-kind-content"),
        ("kind", "evidence") => t("staff-audit-kind-evidence"),
        ("kind", "screenshot") => t("staff-audit-kind-screenshot"),
        _ => return None,
    })
}

/// An audit entry's detail (a JSON object) as `label: value` pairs in the page language
/// ("Priority: 0; Deadline: …" / "Prioriteit: 0; Termijn: …"), empty values left out; anything
/// that is not an object is shown as it is. Yes/no values and a case's former state are words.
///
/// Times stored as milliseconds since the epoch (keys ending in `_ms`: `deadline_ms`, `until_ms`)
/// are written as times in the service's time zone, under the label of the key without the suffix.
pub fn audit_detail(ctx: &Ctx, detail: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return detail.to_owned();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let time = k.strip_suffix("_ms").zip(v.as_i64()).and_then(|(name, ms)| {
                Some((name, time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?))
            });
            match (time, v) {
                (Some((name, t)), _) => format!("{}: {}", audit_field(ctx, name), super::when(ctx, t)),
                (None, serde_json::Value::Bool(b)) => {
                    let word = ctx.t(if *b { t("staff-audit-yes") } else { t("staff-audit-no") });
                    format!("{}: {word}", audit_field(ctx, k))
                }
                (None, serde_json::Value::String(s)) if k == "from" => {
                    format!("{}: {}", audit_field(ctx, k), case_state(ctx, s))
                }
                (None, serde_json::Value::String(s)) if let Some(word) = audit_value(k, s) => {
                    format!("{}: {}", audit_field(ctx, k), ctx.t(word))
                }
                (None, serde_json::Value::String(s)) => format!("{}: {s}", audit_field(ctx, k)),
                (None, other) => format!("{}: {other}", audit_field(ctx, k)),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_details_read_as_pairs_without_nulls() {
        let ctx = Ctx::new(crate::pages::Lang::En, String::new(), String::new(), "/", None);
        assert_eq!(
            audit_detail(&ctx, r#"{"from":null,"first_pick_up":true,"state":"removed"}"#),
            "First time taken: yes; state: removed"
        );
        assert_eq!(audit_detail(&ctx, r#"{"deadline_ms":1764493200000}"#), "Deadline: 2025-11-30 09:00 UTC");
        let nl = Ctx::new(crate::pages::Lang::Nl, String::new(), String::new(), "/", None);
        assert_eq!(
            audit_detail(&nl, r#"{"from":"in_review","first_pick_up":false,"priority":0}"#),
            "Vanaf: In behandeling; Eerste keer opgepakt: nee; Prioriteit: 0"
        );
        assert_eq!(audit_detail(&nl, r#"{"purpose":"reveal"}"#), "Doel: onvervaagd bekijken");
        assert_eq!(audit_detail(&ctx, "not json"), "not json");
    }
}
