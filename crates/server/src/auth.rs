//! Who is calling, and what each role may do — checked here and nowhere else.
//!
//! Callers present `Authorization: Bearer <key>`; keys are looked up by digest. No header means an
//! anonymous member of the public (who may file Art. 16 notices and track them with a token). The
//! permission table below is the single choke point that the role-matrix test walks.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use staydown_domain::notice::Submitter;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_store::ApiKeyRecord;

use crate::AppState;
use crate::problem::ApiError;

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// File a notice (Art. 16, or as a trusted flagger / authority with their key).
    FileNotice,
    /// List the review queue.
    ViewQueue,
    /// See a case with its notices, decisions and appeals.
    ViewCase,
    /// Decide a case (Art. 17).
    Decide,
    /// Decide an appeal (Art. 20): senior reviewers.
    DecideAppeal,
    /// Read a statement of reasons (staff, auditors, and the platform that relays it).
    ViewStatement,
    /// Create staff accounts.
    ManageAccounts,
    /// See dead letters and Art. 23 measures.
    ViewOperations,
    /// Screen uploads against the hash banks (`POST /api/v1/screen`).
    Screen,
    /// Create banks, add and remove entries, import and export.
    ManageBanks,
    /// See the Transparency Database submission queue and its errors (Art. 24(5)).
    ViewSubmissions,
    /// See operational statistics (`GET /api/v1/stats`): time to action, deadline misses.
    ViewStats,
    /// List staff accounts and every API key (admins, and auditors read-only).
    ViewAccounts,
    /// Attach the bytes of a reported item to a case (the platform, reviewers).
    AttachContent,
    /// Put content on a case under legal hold or release it.
    ManageLegalHold,
    /// Send refused statements of reasons to the Transparency Database again.
    RequeueSubmissions,
    /// Helpline mode: help cases, the platform registry, removal requests, URL checks,
    /// escalation packs (`/api/v1/helpline/…`).
    HelplineWork,
    /// Helpline mode's figures: the league table and the yearly figures (no personal data).
    ViewHelplineFigures,
    /// Send a dead letter of the outbox again (`POST /api/v1/outbox/dead/{id}/resend`).
    ResendDeadLetters,
}

/// The permission table: which role may do what. `None` is an anonymous caller.
pub fn allowed(role: Option<Role>, permission: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match permission {
        // A caseworker's requests go out through helpline mode, never as notices to this instance.
        FileNotice => !matches!(role, Some(Auditor | Caseworker)),
        ViewQueue | ViewCase | Decide => matches!(role, Some(Reviewer | SeniorReviewer | Admin)),
        DecideAppeal => matches!(role, Some(SeniorReviewer)),
        ViewStatement => matches!(role, Some(Reviewer | SeniorReviewer | Admin | Auditor | Platform)),
        ManageAccounts => matches!(role, Some(Admin)),
        ViewOperations => matches!(role, Some(Admin | Auditor)),
        Screen => matches!(role, Some(Platform | Admin)),
        ManageBanks => matches!(role, Some(Admin)),
        ViewSubmissions => matches!(role, Some(Admin | Auditor)),
        ViewStats => matches!(role, Some(Reviewer | SeniorReviewer | Admin | Auditor)),
        ViewAccounts => matches!(role, Some(Admin | Auditor)),
        AttachContent => matches!(role, Some(Platform | Reviewer | SeniorReviewer | Admin)),
        ManageLegalHold => matches!(role, Some(SeniorReviewer | Admin)),
        RequeueSubmissions => matches!(role, Some(Admin)),
        HelplineWork => matches!(role, Some(Caseworker)),
        ViewHelplineFigures => matches!(role, Some(Caseworker | Admin | Auditor)),
        ResendDeadLetters => matches!(role, Some(Admin)),
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key used, if any.
    pub key: Option<ApiKeyRecord>,
}

impl Caller {
    /// The caller's role.
    pub fn role(&self) -> Option<Role> {
        self.key.as_ref().map(|k| k.role)
    }

    /// Fails with 401 (anonymous) or 403 (wrong role) unless the permission is granted.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if allowed(self.role(), permission) {
            Ok(())
        } else if self.key.is_none() {
            Err(ApiError::Unauthorized("this needs an API key: send Authorization: Bearer <key>"))
        } else {
            Err(ApiError::Forbidden("your key's role may not do this"))
        }
    }

    /// The person or system acting: `account:<id>` for a staff account's key, else `key:<id>`
    /// (`public` without a key). Decisions record it; appeals compare it (four eyes).
    pub fn principal(&self) -> String {
        match &self.key {
            Some(k) => k.account_id.as_ref().map_or_else(|| format!("key:{}", k.id), |a| format!("account:{a}")),
            None => "public".to_owned(),
        }
    }

    /// Pseudonymous notifier reference for Art. 23 counting: the key, or a digest of the email.
    pub fn notifier_ref(&self, email: Option<&str>) -> Option<String> {
        match &self.key {
            Some(k) => Some(format!("key:{}", k.id)),
            None => email.map(|e| format!("email:{}", secret_digest(&e.trim().to_lowercase()))),
        }
    }

    /// The audit actor: `public` or `key:<id>`.
    pub fn actor(&self) -> String {
        self.key.as_ref().map_or_else(|| "public".to_owned(), |k| format!("key:{}", k.id))
    }

    /// Who is submitting a notice, as the domain sees it.
    pub fn submitter(&self) -> Submitter {
        match &self.key {
            None => Submitter::Public,
            Some(k) => match k.role {
                Role::TrustedFlagger => Submitter::TrustedFlagger { name: k.name.clone() },
                Role::Authority => Submitter::Authority { name: k.name.clone() },
                _ => Submitter::Platform { name: k.name.clone() },
            },
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Already checked by the contract layer (`api::contract::authenticate`) before the body.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller { key: None });
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(ApiError::Unauthorized("the Authorization header must be `Bearer <key>`"))?;
        let record = state.store().live_api_key(&secret_digest(key), state.now()).await?;
        match record {
            Some(record) => Ok(Caller { key: Some(record) }),
            None => Err(ApiError::Unauthorized("unknown, expired or revoked API key")),
        }
    }
}

/// Generates a new API key: `sd_<id>_<secret>`. Returns `(id, key)`; store only the key's digest.
pub fn generate_api_key() -> (String, String) {
    let id = hex::encode(rand::random::<[u8; 6]>());
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let key = format!("sd_{id}_{secret}");
    (id, key)
}

/// Generates a tracking token for a notifier (256 random bits, hex).
pub fn generate_tracking_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
