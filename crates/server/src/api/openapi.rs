//! The OpenAPI 3.1 description of the JSON API, written from [`super::contract::OPERATIONS`] and
//! served at `GET /api/v1/openapi.json` (issue 15; OpenAPI Specification 3.1.0).
//!
//! Paths, methods, parameters, security and every status an operation can answer come from the
//! contract table, which also drives the authentication layer, so the two cannot drift apart.
//! Body schemas are derived with `utoipa` from the Rust types the handlers read and write
//! ([`schemas`]); answers built with `serde_json::json!` have hand-written schemas
//! ([`super::schemas`]), multipart forms too ([`extra_schemas`]).
//! Every error is the problem document of RFC 9457 ([`ProblemDocument`]).

use std::sync::OnceLock;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::contract::{Access, Answer, Body, OPERATIONS, Operation, PREFIX, roles_allowed};
use crate::auth::allowed;

/// An RFC 9457 problem document, as every error of the API is written (`server::problem`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ProblemDocument {
    /// `/problems/<code>`, e.g. `/problems/validation-failed`.
    #[serde(rename = "type")]
    kind: String,
    /// A short, fixed summary of the problem type.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What went wrong in this request.
    detail: String,
    /// Field-level reasons (validation and malformed query or path), absent otherwise.
    errors: Option<Vec<FieldProblem>>,
    /// On 5xx: the id under which the cause was logged.
    request_id: Option<String>,
}

/// One field-level reason in a problem document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FieldProblem {
    /// JSON path of the field, e.g. `locations[0].url`, or `body`.
    field: String,
    /// Stable machine code, e.g. `required`, `invalid`, `too_long`, `control_character`.
    code: String,
    /// Human explanation.
    message: String,
}

/// Adds `T`'s schema and those it refers to.
pub(crate) fn add<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// The named body schemas (`components.schemas`).
pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
    let mut out = Vec::new();
    add::<ProblemDocument>(&mut out);
    add::<FieldProblem>(&mut out);
    add::<staydown_domain::notice::NoticeDraft>(&mut out);
    // Request bodies.
    add::<staydown_domain::decision::DecisionDraft>(&mut out);
    add::<staydown_domain::appeal::AppealDraft>(&mut out);
    add::<staydown_domain::appeal::AppealDecisionDraft>(&mut out);
    add::<staydown_domain::bank::BankDraft>(&mut out);
    add::<staydown_domain::bank::EntryDraft>(&mut out);
    add::<super::banks::BankPatch>(&mut out);
    add::<super::content::HoldBody>(&mut out);
    add::<super::art18::Art18Body>(&mut out);
    add::<super::videos::VideoDraft>(&mut out);
    add::<super::videos::Thresholds>(&mut out);
    add::<super::accounts::NewAccountBody>(&mut out);
    add::<super::transparency::RequeueBody>(&mut out);
    add::<super::screen::ScreenRequest>(&mut out);
    add::<crate::staff::api::ResetBody>(&mut out);
    add::<crate::staff::api::ChangeBody>(&mut out);
    // Answers with a type of their own.
    add::<staydown_domain::taxonomy::Category>(&mut out);
    add::<staydown_domain::legal_grounds::LegalGround>(&mut out);
    add::<super::notices::NoticeCreated>(&mut out);
    add::<super::notices::NoticeView>(&mut out);
    add::<super::queue::QueueEntry>(&mut out);
    add::<super::cases::CaseView>(&mut out);
    add::<super::review::TakenView>(&mut out);
    add::<super::review::AppealEntry>(&mut out);
    add::<super::transparency::Submission>(&mut out);
    add::<super::screen::ScreenResponse>(&mut out);
    add::<super::banks::BankView>(&mut out);
    add::<super::banks::BankPage>(&mut out);
    add::<super::banks::EntryView>(&mut out);
    add::<crate::staff::api::AccountView>(&mut out);
    add::<crate::staff::api::KeyView>(&mut out);
    add::<crate::staff::api::SessionView>(&mut out);
    add::<super::videos::VideoView>(&mut out);
    super::helpline::schemas(&mut out);
    out
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Response {
    let mut response = Json(document()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// `Name` → a reference to `components.schemas.Name`; `[Name]` → an array of them.
fn schema_ref(name: &str) -> Value {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(item) => json!({"type": "array", "items": schema_ref(item)}),
        None => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

/// For `#[schema(schema_with = ..)]`: the named component or `null`.
pub(crate) fn nullable_ref(name: &str) -> RefOr<Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(name))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    ))
}

/// For `#[schema(schema_with = ..)]`: an array of the named component.
pub(crate) fn array_of(name: &str) -> RefOr<Schema> {
    RefOr::T(Schema::Array(utoipa::openapi::schema::Array::new(utoipa::openapi::Ref::from_schema_name(name))))
}

fn operation_id(op: &Operation) -> String {
    let mut id = op.method.to_ascii_lowercase();
    for part in op.path.split(['/', '-', '.', '{', '}']).filter(|p| !p.is_empty()) {
        id.push('_');
        id.push_str(part);
    }
    id
}

fn security(op: &Operation) -> Value {
    match op.access {
        Access::Open => json!([]),
        Access::TokenOrKey => json!([{}, {"bearer": []}]),
        Access::Role(p) if allowed(None, p) => json!([{}, {"bearer": []}]),
        Access::Role(_) | Access::AnyKey | Access::PersonalKey => json!([{"bearer": []}]),
        Access::Basic => json!([{"basic": []}]),
        Access::Session => json!([{"session": []}]),
    }
}

fn who(op: &Operation) -> String {
    match op.access {
        Access::Open => "Anyone.".to_owned(),
        Access::TokenOrKey => {
            "Anyone with the token named in the query or body, or a key of a role that may see it.".into()
        }
        Access::Role(p) => {
            let roles = roles_allowed(p).join(", ");
            if allowed(None, p) {
                format!("Anonymous callers, or keys of: {roles}.")
            } else {
                format!("Keys of: {roles}.")
            }
        }
        Access::AnyKey => "Any valid key; what it may see or change depends on its role.".into(),
        Access::PersonalKey => "The personal key of a staff account.".into(),
        Access::Basic => "A staff account's username and password (HTTP Basic).".into(),
        Access::Session => "The staff session cookie.".into(),
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "Done; no content",
        400 => "Malformed JSON, path or query string",
        401 => "No valid credentials",
        403 => "The caller's role may not do this (or the notifier is suspended, Art. 23)",
        404 => "Not found (also for a wrong token)",
        409 => "Conflict with the current state, or the same Idempotency-Key still in progress",
        413 => "Body too large",
        415 => "Wrong Content-Type",
        421 => {
            "Misdirected: on a deployment of several nodes, this node's roles do not serve this route \
                (problem `/problems/wrong-node`); send it to a node of the role named in `detail`"
        }
        422 => "Invalid fields (each listed in `errors`), or an Idempotency-Key reused for another request",
        429 => "Too many requests; see Retry-After",
        503 => "The database is unavailable, or the feature is not configured on this server",
        _ => "See the problem document",
    }
}

fn success(op: &Operation, status: u16) -> Value {
    let content = match op.answer {
        Answer::Empty(_) => return json!({"description": status_text(status)}),
        Answer::Json(_, schema) => json!({"application/json": {"schema": schema_ref(schema)}}),
        Answer::Bytes(media) => json!({ media: {"schema": {"type": "string", "contentMediaType": media}} }),
        Answer::JsonOr(schema, media) => json!({
            "application/json": {"schema": schema_ref(schema)},
            media: {"schema": {"type": "string"}},
        }),
    };
    json!({"description": status_text(status), "content": content})
}

fn problem(status: u16) -> Value {
    let mut response = json!({
        "description": status_text(status),
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}},
    });
    if status == 429 {
        response["headers"] = json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}});
    }
    response
}

fn operation(op: &Operation) -> Value {
    let mut parameters = Vec::new();
    for name in op.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
        parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
    }
    for q in op.query {
        parameters.push(
            json!({"name": q.name, "in": "query", "required": false, "description": q.doc, "schema": {"type": q.kind}}),
        );
    }
    let success_status = match op.answer {
        Answer::Json(s, _) | Answer::Empty(s) => s,
        _ => 200,
    };
    let mut responses = Map::new();
    for status in op.statuses() {
        let response = if status == success_status {
            success(op, status)
        } else if status == 400 && op.access == Access::Session {
            // The cookie is the only input here; a Cookie header with control characters never
            // reaches the application: the HTTP parser (hyper) refuses it with a bare 400.
            json!({"description": "A Cookie header with characters HTTP does not allow; refused by the HTTP layer without a body"})
        } else {
            problem(status)
        };
        responses.insert(status.to_string(), response);
    }
    let segment = op.path.trim_start_matches('/').split('/').next().unwrap_or("api");
    let mut o = json!({
        "operationId": operation_id(op),
        "summary": op.summary,
        "description": format!("Who may call it: {}", who(op)),
        "tags": [segment.trim_end_matches(".json")],
        "parameters": parameters,
        "responses": responses,
        "security": security(op),
    });
    let body = match op.body {
        Body::None => None,
        Body::Json(s) => Some(json!({"application/json": {"schema": schema_ref(s)}})),
        Body::Multipart(s) => Some(json!({"multipart/form-data": {"schema": schema_ref(s)}})),
        Body::Bytes => {
            Some(json!({"*/*": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}))
        }
        Body::JsonOrMultipart(j, m) => Some(json!({
            "application/json": {"schema": schema_ref(j)},
            "multipart/form-data": {"schema": schema_ref(m)},
        })),
    };
    if let Some(content) = body {
        o["requestBody"] = json!({"required": true, "content": content});
    }
    o
}

fn build() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let item = paths.entry(format!("{PREFIX}{}", op.path)).or_insert_with(|| json!({}));
        item[op.method.to_ascii_lowercase()] = operation(op);
    }
    let mut components = Map::new();
    for (name, schema) in schemas() {
        components.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    for (name, schema) in extra_schemas().into_iter().chain(super::schemas::answers()) {
        components.insert(name.to_owned(), schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "staydown API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Notice and action under the EU Digital Services Act (Art. 16–24) for non-consensual intimate \
                            images, and stay-down by perceptual hash. Every error is an RFC 9457 problem document \
                            (application/problem+json) with field-level `errors` where fields are at fault. \
                            Credentials are checked before the body is read.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (`sd_<id>_<secret>`) from `staydown key create` or `POST /api/v1/keys`."},
                "basic": {"type": "http", "scheme": "basic", "description": "A staff account's username and password; only for `POST /api/v1/keys`."},
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-staydown_staff", "description": "The staff session cookie set by `POST /staff/login` (`staydown_staff` over plain HTTP)."},
            },
        },
    })
}

/// Hand-written schemas for multipart forms (utoipa derives JSON shapes only).
fn extra_schemas() -> Vec<(&'static str, Value)> {
    let binary = json!({"type": "string", "contentMediaType": "application/octet-stream"});
    vec![
        (
            "ContentUpload",
            json!({"type": "object", "properties": {"file": binary, "content_id": {"type": "string"}, "url": {"type": "string"}}, "required": ["file"]}),
        ),
        (
            "ScreenUpload",
            json!({"type": "object", "properties": {"image": binary, "video": binary, "content_id": {"type": "string"}, "url": {"type": "string"}, "uploader": {"type": "string"}}}),
        ),
    ]
}
