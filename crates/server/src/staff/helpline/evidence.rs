//! Evidence on a help case from the caseworker's page: the upload (sealed at rest, its SHA-256
//! taken at intake, filed once when sent twice) and the police bundle download (every read an
//! audit entry). Pages of the case itself: `cases`.

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};

use super::cases::case_page;
use super::{form_errors, see_other};
use crate::AppState;
use crate::api::helpline as api;
use crate::auth::Permission;
use crate::pages::form::{Errors, FormData};
use crate::staff::pages::Console;

/// `POST /staff/helpline/cases/{id}/evidence` (multipart: `csrf`, `submission`, `kind`, `file`):
/// sealed at rest with its SHA-256 taken at intake. Sent twice (a double click, a reload of the
/// answer), the file is stored once (`pages::once`, keyed on the fields' contents, since a browser
/// writes a new multipart boundary on every send). An upload that breaks off or is over the limit
/// is an error beside the file field, never the API's problem+json.
pub async fn upload_evidence(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, Response> {
    use sha2::{Digest, Sha256};
    console.require(Permission::HelplineWork)?;
    let (mut csrf, mut submission, mut kind, mut file, mut content_type) =
        (String::new(), String::new(), None, Vec::new(), None);
    let mut cut_short = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                cut_short = true;
                break;
            }
        };
        let name = field.name().map(str::to_owned);
        let ctype = field.content_type().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else {
            cut_short = true;
            break;
        };
        match name.as_deref() {
            Some("csrf") => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            Some(crate::pages::once::FIELD) => submission = String::from_utf8_lossy(&bytes).into_owned(),
            Some("kind") => kind = Some(String::from_utf8_lossy(&bytes).into_owned()),
            Some("file") => {
                content_type = ctype;
                file = bytes.to_vec();
            }
            _ => {}
        }
    }
    if cut_short {
        // The CSRF token may be in the part that never arrived; nothing is stored either way.
        let mut errors = Errors::default();
        errors.add("file", console.ctx.ta("helpline-evidence-too-large", "mb", api::MAX_EVIDENCE_BYTES >> 20));
        return case_page(&state, console, &id, false, "evidence", errors, FormData::default()).await;
    }
    if !console.csrf_ok(&csrf) {
        return Err(console.csrf_refused());
    }
    // What makes two sends the same form: every field's contents, not the multipart framing.
    let mut digest = Sha256::new();
    for part in [csrf.as_bytes(), submission.as_bytes(), kind.as_deref().unwrap_or("").as_bytes()] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.update(content_type.as_deref().unwrap_or("").as_bytes());
    digest.update([0]);
    digest.update(&file);
    let key = digest.finalize();
    let (ctx, scope) = (console.ctx.clone(), format!("staff:/staff/helpline/cases/{id}/evidence"));
    let filing = async {
        let principal = console.caller().principal();
        match api::store_evidence(&state, &principal, &id, kind.as_deref(), content_type.as_deref(), file).await {
            Ok(_) => see_other(&format!("/staff/helpline/cases/{id}#evidence")),
            Err(crate::problem::ApiError::PayloadTooLarge { .. }) => {
                let mut errors = Errors::default();
                errors.add("file", console.ctx.ta("helpline-evidence-too-large", "mb", api::MAX_EVIDENCE_BYTES >> 20));
                case_page(&state, console, &id, false, "evidence", errors, FormData::default())
                    .await
                    .unwrap_or_else(|r| r)
            }
            Err(e) => match form_errors(&console, e) {
                Ok(mut errors) => {
                    if let Some(m) = errors.0.remove("body") {
                        errors.add("file", m);
                    }
                    case_page(&state, console, &id, false, "evidence", errors, FormData::default())
                        .await
                        .unwrap_or_else(|r| r)
                }
                Err(r) => r,
            },
        }
    };
    Ok(crate::pages::once::file_once(&state, &ctx, &scope, &submission, &key, filing).await)
}

/// `GET /staff/helpline/cases/{id}/police-bundle`: the ZIP (every read an audit entry).
pub async fn police_bundle(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    api::build_police_bundle(&state, &console.caller().principal(), &id).await.map_err(IntoResponse::into_response)
}
