//! `/staff/admin`: staff accounts and roles (create, disable, enable, reset a password), API keys
//! of trusted flaggers, authorities and platforms (list, issue, revoke), Art. 23(2) measures
//! against notifiers, dead letters of the outbox with re-send, and the audit-chain check.
//!
//! Admins change things; auditors see the same page with no form that changes anything
//! (`Permission::ViewAccounts` / `ViewOperations` to see, `ManageAccounts` /
//! `ResendDeadLetters` to act — the API's table). Changes run the API's handlers, so they are
//! validated and audited exactly as over the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::roles::Role;
use staydown_store::{AccountRecord, ApiKeyListing, AuditReport, MisuseMeasure, OutboxItem};

use super::{Problem, done, notice, problems, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::json::ApiJson;
use crate::pages::Ctx;
use crate::staff::pages::{Chrome, Console};

/// Roles an issued key may have: the organisations that call the API with a key of their own.
const KEY_ROLES: [Role; 3] = [Role::TrustedFlagger, Role::Authority, Role::Platform];

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/admin.html")]
pub struct AdminPage {
    ctx: Ctx,
    chrome: Chrome,
    manage: bool,
    resend: bool,
    operations: bool,
    accounts: Vec<AccountRecord>,
    keys: Vec<ApiKeyListing>,
    misuse: Vec<MisuseMeasure>,
    dead: Vec<OutboxItem>,
    audit: Option<AuditReport>,
    new_key: Option<String>,
    account_form: AccountForm,
    key_form: KeyForm,
    errors: Vec<Problem>,
    notice: Option<&'static str>,
    now: time::OffsetDateTime,
    /// A fresh submission value for the key form (`pages::once`): sent twice, it issues one key.
    submission: String,
    /// A key whose revocation waits for "yes" (id, name): the page asks first.
    confirm_revoke: Option<(String, String)>,
}

impl AdminPage {
    fn invalid(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
    fn when(&self, t: &time::OffsetDateTime) -> String {
        when(&self.ctx, *t)
    }
    fn role_key(&self, role: &Role) -> &'static str {
        Chrome::role_key(*role)
    }
    fn staff_roles(&self) -> Vec<(&'static str, &'static str)> {
        [Role::Reviewer, Role::SeniorReviewer, Role::Admin, Role::Auditor, Role::Caseworker]
            .iter()
            .map(|r| (r.as_str(), Chrome::role_key(*r)))
            .collect()
    }
    fn key_roles(&self) -> Vec<(&'static str, &'static str)> {
        KEY_ROLES.iter().map(|r| (r.as_str(), Chrome::role_key(*r))).collect()
    }
    fn key_state(&self, k: &ApiKeyListing) -> &'static str {
        if k.revoked_at.is_some() {
            t("staff-admin-key-revoked")
        } else if k.expires_at.is_some_and(|e| e <= self.now) {
            t("staff-admin-key-expired")
        } else {
            t("staff-admin-key-active")
        }
    }
    fn key_live(&self, k: &ApiKeyListing) -> bool {
        k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > self.now)
    }
    fn account_name(&self, id: &Option<String>) -> String {
        id.as_ref()
            .and_then(|id| self.accounts.iter().find(|a| &a.id == id))
            .map_or_else(|| "–".to_owned(), |a| a.username.clone())
    }
    fn audit_break(&self) -> String {
        self.audit.as_ref().and_then(|a| a.broken.as_ref()).map(ToString::to_string).unwrap_or_default()
    }
}

/// The new-account form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// The issue-key form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `?done=` and `?verify=` of the page.
#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    done: Option<String>,
    verify: Option<String>,
}

/// What a render adds to the stored state.
#[derive(Default)]
struct Extra {
    account_form: AccountForm,
    key_form: KeyForm,
    errors: Vec<Problem>,
    new_key: Option<String>,
    done: Option<String>,
    verify: bool,
    /// A key whose revocation waits for "yes" (id, name).
    confirm_revoke: Option<(String, String)>,
}

async fn render(state: &AppState, console: Console, extra: Extra) -> Response {
    let store = state.store();
    let operations = console.may(Permission::ViewOperations);
    let loaded = async {
        let accounts = store.list_accounts().await?;
        let keys = store.list_api_keys(None).await?;
        let (misuse, dead) = if operations {
            (store.misuse_measures(100).await?, store.outbox_dead(100).await?)
        } else {
            (Vec::new(), Vec::new())
        };
        let audit = if operations && extra.verify { Some(store.verify_audit().await?) } else { None };
        Ok::<_, staydown_store::StoreError>((accounts, keys, misuse, dead, audit))
    }
    .await;
    let (accounts, keys, misuse, dead, audit) = match loaded {
        Ok(v) => v,
        Err(e) => return super::failure(&console, &e.into()),
    };
    let status = if extra.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let notice = notice(
        extra.done.as_deref(),
        &[
            ("account-created", t("staff-admin-done-account-created")),
            ("disabled", t("staff-admin-done-disabled")),
            ("enabled", t("staff-admin-done-enabled")),
            ("password", t("staff-admin-done-password")),
            ("revoked", t("staff-admin-done-revoked")),
            ("resent", t("staff-admin-done-resent")),
        ],
    );
    let page = AdminPage {
        manage: console.may(Permission::ManageAccounts),
        resend: console.may(Permission::ResendDeadLetters),
        operations,
        accounts,
        keys,
        misuse,
        dead,
        audit,
        new_key: extra.new_key,
        account_form: extra.account_form,
        key_form: extra.key_form,
        errors: extra.errors,
        notice,
        now: state.now(),
        submission: crate::pages::once::new_submission(),
        confirm_revoke: extra.confirm_revoke,
        ctx: console.ctx,
        chrome: console.chrome,
    };
    (status, page).into_response()
}

/// `GET /staff/admin` (`?verify=1` runs the audit-chain check).
pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<AdminQuery>) -> Response {
    if let Some(r) = console.refusal(Permission::ViewAccounts) {
        return r;
    }
    let extra = Extra { done: q.done, verify: q.verify.is_some(), ..Extra::default() };
    render(&state, console, extra).await
}

/// The refusal to answer a form with: the readable 403 for a role without `permission`, or the
/// expired-form page for a form without this session's token. `None`: go ahead.
fn refused(console: &Console, permission: Permission, csrf: &str) -> Option<Response> {
    console.refusal(permission).or_else(|| (!console.csrf_ok(csrf)).then(|| console.csrf_refused()))
}

/// `POST /staff/admin/accounts`: a new staff account (the API's validation and hashing).
pub async fn create_account(
    State(state): State<AppState>,
    console: Console,
    Form(form): Form<AccountForm>,
) -> Response {
    if let Some(r) = refused(&console, Permission::ManageAccounts, &form.csrf) {
        return r;
    }
    let body = serde_json::json!({ "username": form.username, "role": form.role, "password": form.password });
    let body = match serde_json::from_value(body) {
        Ok(b) => b,
        Err(e) => return super::failure(&console, &crate::problem::ApiError::Internal(e.to_string())),
    };
    match crate::api::accounts::create(State(state.clone()), console.caller(), ApiJson(body)).await {
        Ok(_) => done("/staff/admin", "account-created"),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => {
                let account_form = AccountForm { password: String::new(), ..form };
                render(&state, console, Extra { account_form, errors, ..Extra::default() }).await
            }
            None => super::failure(&console, &e),
        },
    }
}

/// The forms of one account's buttons.
#[derive(Debug, Deserialize)]
pub struct AccountActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// `POST /staff/admin/accounts/{id}/{disable|enable|password}`.
pub async fn account_action(
    State(state): State<AppState>,
    console: Console,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<AccountActionForm>,
) -> Response {
    if let Some(r) = refused(&console, Permission::ManageAccounts, &form.csrf) {
        return r;
    }
    let caller = console.caller();
    let result = match action.as_str() {
        "disable" => {
            crate::staff::api::disable_account(State(state.clone()), caller, Path(id)).await.map(|_| "disabled")
        }
        "enable" => crate::staff::api::enable_account(State(state.clone()), caller, Path(id)).await.map(|_| "enabled"),
        "password" => {
            let body = serde_json::from_value(serde_json::json!({ "password": form.password }))
                .map_err(|e| crate::problem::ApiError::Internal(e.to_string()));
            match body {
                Ok(body) => crate::staff::api::reset_password(State(state.clone()), caller, Path(id), ApiJson(body))
                    .await
                    .map(|_| "password"),
                Err(e) => Err(e),
            }
        }
        _ => return console.message(StatusCode::NOT_FOUND, tk("staff-admin-not-found")),
    };
    match result {
        Ok(what) => done("/staff/admin", what),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => render(&state, console, Extra { errors, ..Extra::default() }).await,
            None => super::failure(&console, &e),
        },
    }
}

/// `POST /staff/admin/keys`: a key for a trusted flagger, authority or platform. The key is shown
/// once, on the answer to this form; only its digest is stored.
///
/// Sent twice (a reload of the answer, a double click), the form issues one key: the second send
/// gets a page saying the key was issued and shown once (`pages::once::file_once_shown`).
pub async fn issue_key(State(state): State<AppState>, console: Console, RawForm(body): RawForm) -> Response {
    let typed = crate::pages::form::FormData::parse(&body);
    let form = KeyForm { csrf: typed.get("csrf"), name: typed.get("name"), role: typed.get("role") };
    if let Some(r) = refused(&console, Permission::ManageAccounts, &form.csrf) {
        return r;
    }
    let submission = typed.get(crate::pages::once::FIELD);
    let (ctx, again) = (console.ctx.clone(), console.clone());
    let filing = issue_key_checked(&state, console, form);
    let repeated = move || again.message(StatusCode::CONFLICT, tk("staff-admin-key-repeated"));
    crate::pages::once::file_once_shown(&state, &ctx, "staff:/staff/admin/keys", &submission, &body, filing, repeated)
        .await
}

async fn issue_key_checked(state: &AppState, console: Console, form: KeyForm) -> Response {
    let mut errors = Vec::new();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        errors.push(Problem::new(&console.ctx, "key-name", t("staff-admin-err-org-name")));
    }
    let role = KEY_ROLES.into_iter().find(|r| r.as_str() == form.role);
    if role.is_none() {
        errors.push(Problem::new(&console.ctx, "key-role", t("staff-admin-err-key-role")));
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        // A refusal (422) is not kept: the corrected form issues the key.
        return render(state, console, Extra { key_form: form, errors, ..Extra::default() }).await;
    };
    let (id, key) = crate::auth::generate_api_key();
    let digest = staydown_domain::secret_digest(&key);
    if let Err(e) = state.store().create_api_key(&id, &name, role, &digest, state.now()).await {
        return super::failure(&console, &e.into());
    }
    render(state, console, Extra { new_key: Some(key), ..Extra::default() }).await
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The revoke form: the session's token, and `confirm=yes` once the page has asked.
#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /staff/admin/keys/{id}/revoke`. A revocation cannot be undone and stops every program
/// using the key at once, so the page asks first (WCAG 2.2 SC 3.3.4): the form posts again with
/// `confirm=yes`.
pub async fn revoke_key(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(r) = refused(&console, Permission::ManageAccounts, &form.csrf) {
        return r;
    }
    if form.confirm.as_deref() != Some("yes") {
        let name = match state.store().list_api_keys(None).await {
            Ok(keys) => keys.into_iter().find(|k| k.id == id && k.revoked_at.is_none()).map(|k| k.name),
            Err(e) => return super::failure(&console, &e.into()),
        };
        let Some(name) = name else {
            return console.message(StatusCode::NOT_FOUND, crate::staff::pages::tk("staff-not-found"));
        };
        return render(&state, console, Extra { confirm_revoke: Some((id, name)), ..Extra::default() }).await;
    }
    match crate::staff::api::revoke_key(State(state.clone()), console.caller(), Path(id)).await {
        Ok(_) => done("/staff/admin", "revoked"),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => render(&state, console, Extra { errors, ..Extra::default() }).await,
            None => super::failure(&console, &e),
        },
    }
}

/// `POST /staff/admin/dead/{id}/resend`: a dead letter back in the outbox (the API's handler).
pub async fn resend(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = refused(&console, Permission::ResendDeadLetters, &form.csrf) {
        return r;
    }
    match crate::api::operations::resend_dead_letter(State(state.clone()), console.caller(), Path(id)).await {
        Ok(_) => done("/staff/admin", "resent"),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => render(&state, console, Extra { errors, ..Extra::default() }).await,
            None => super::failure(&console, &e),
        },
    }
}
