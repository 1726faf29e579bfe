//! The OpenAPI document against the router, and authentication before the body (issue 15).

use std::collections::BTreeSet;

use serde_json::Value;
use staydown_domain::roles::Role;
use staydown_server::api::contract::{Access, Body, OPERATIONS};
use staydown_server::auth::allowed;

use crate::support::{TestApp, each_backend};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn request(app: &TestApp, method: &str, path: &str) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    app.client.request(method, format!("{}{path}", app.base))
}

/// Every (method, path) the router answers under `/api/v1` is in the document, and every
/// operation in the document is routed. The router's paths are the ones it was built with
/// (`api_routes(..).paths()`); each is probed with every method: a routed method answers
/// anything but 405 (with a bogus key: 401 from the contract layer, or 200 where open), an
/// unrouted one 405.
#[tokio::test]
async fn every_route_is_described() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let (status, doc) = get_json(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("path item").keys().map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed_paths = staydown_server::api_routes(&app.state).paths().to_vec();
    let mut routed = BTreeSet::new();
    for path in &routed_paths {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "00000000-0000-7000-8000-000000000000" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let resp = request(&app, method, &format!("/api/v1{concrete}"))
                .bearer_auth("sd_000000000000_bogus")
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            if status != 405 {
                routed.insert((method.to_owned(), format!("/api/v1{path}")));
                assert!(
                    [200, 401].contains(&status),
                    "{method} {path} with a bogus key answered {status}: not checked before the handler?"
                );
            }
        }
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document (add them to api::contract): {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "in the OpenAPI document but not routed: {unrouted:?}");
    assert!(routed.len() >= 60, "only {} operations found", routed.len());
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app.client.get(format!("{}{path}", app.base)).send().await.expect("request");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// The document is OpenAPI 3.1 with the three security schemes, the problem type with its
/// field-level errors, and the error statuses each operation can answer.
#[tokio::test]
async fn the_document_describes_security_problems_and_statuses() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let resp = app.client.get(format!("{}/api/v1/openapi.json", app.base)).send().await.expect("request");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = resp.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["session"]["in"], "cookie");
    let problem = &doc["components"]["schemas"]["ProblemDocument"];
    for field in ["type", "title", "status", "detail", "errors"] {
        assert!(problem["properties"][field].is_object(), "problem schema lacks {field}: {problem}");
    }
    let notice = &doc["paths"]["/api/v1/notices"]["post"];
    for status in ["201", "400", "401", "403", "409", "413", "415", "421", "422", "429", "503"] {
        assert!(notice["responses"][status].is_object(), "POST /notices lacks {status}");
    }
    // Another role's node answers 421 wrong-node (docs/deploy.md), for screening too.
    assert!(
        doc["paths"]["/api/v1/screen"]["post"]["responses"]["421"]["description"]
            .as_str()
            .unwrap()
            .contains("wrong-node")
    );
    assert_eq!(
        notice["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/ProblemDocument"
    );
    assert_eq!(doc["paths"]["/api/v1/keys"]["post"]["security"][0]["basic"], serde_json::json!([]));
    assert_eq!(doc["paths"]["/api/v1/session"]["get"]["security"][0]["session"], serde_json::json!([]));
    assert!(doc["paths"]["/api/v1/cases/{id}"]["get"]["responses"]["404"].is_object());
    assert!(doc["paths"]["/api/v1/categories"]["get"]["responses"]["401"].is_null());
    // Every reference points at a defined schema.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap_or_default();
        assert!(doc["components"]["schemas"][name].is_object(), "$ref to undefined schema {name}");
    }
}

/// For every authenticated operation with a body: a garbage body without a key is 401 and with a
/// key of a role that may not call it 403, both problem+json, before the body is looked at.
#[tokio::test]
async fn credentials_are_checked_before_the_body() {
    each_backend(|app| async move {
        let mut keys = Vec::new();
        for role in Role::ALL {
            keys.push((role, app.key(role, role.as_str()).await));
        }
        let mut checked = 0;
        for op in OPERATIONS.iter().filter(|op| op.body != Body::None) {
            let path = op
                .full_path()
                .split('/')
                .map(|s| if s.starts_with('{') { "00000000-0000-7000-8000-000000000000" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let garbage =
                || request(&app, op.method, &path).header("content-type", "application/json").body("{not json at all");
            let denied_role = match op.access {
                Access::Role(p) if allowed(None, p) => {
                    // Anonymous callers may; still, a key with a role that may not is refused first.
                    let (_, key) = keys.iter().find(|(r, _)| !allowed(Some(*r), p)).expect("a refused role");
                    expect_problem(garbage().bearer_auth(key).send().await.expect("request"), 403, op.path).await;
                    checked += 1;
                    continue;
                }
                Access::Role(p) => keys.iter().find(|(r, _)| !allowed(Some(*r), p)).map(|(_, k)| k.clone()),
                // A key that belongs to no staff account.
                Access::PersonalKey => Some(keys[0].1.clone()),
                Access::AnyKey | Access::Basic | Access::Session => None,
                Access::TokenOrKey | Access::Open => continue,
            };
            expect_problem(garbage().send().await.expect("request"), 401, op.path).await;
            expect_problem(
                garbage().bearer_auth("sd_000000000000_unknown").send().await.expect("request"),
                401,
                op.path,
            )
            .await;
            if let Some(key) = denied_role {
                expect_problem(garbage().bearer_auth(&key).send().await.expect("request"), 403, op.path).await;
            }
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} operations checked");
    })
    .await;
}

async fn expect_problem(resp: reqwest::Response, status: u16, path: &str) {
    assert_eq!(resp.status().as_u16(), status, "{path}");
    assert_eq!(resp.headers()["content-type"], "application/problem+json", "{path}");
    let body: Value = resp.json().await.expect("problem json");
    assert_eq!(body["status"], status, "{path}: {body}");
}

/// The component a schema names (`$ref`), or the items' component of an array of them.
fn component<'a>(doc: &'a Value, schema: &Value) -> Option<(String, &'a Value)> {
    let reference = schema["$ref"].as_str().or_else(|| schema["items"]["$ref"].as_str())?;
    let name = reference.strip_prefix("#/components/schemas/")?;
    Some((name.to_owned(), &doc["components"]["schemas"][name]))
}

/// Whether a component describes its fields: properties of its own, or a combination of such.
fn describes_fields(doc: &Value, schema: &Value) -> bool {
    if schema["properties"].as_object().is_some_and(|p| !p.is_empty()) {
        return true;
    }
    for combined in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combined].as_array() {
            return parts.iter().any(|part| match component(doc, part) {
                Some((_, c)) => describes_fields(doc, c),
                None => describes_fields(doc, part),
            });
        }
    }
    false
}

/// Every request body and every JSON answer of every operation has a named schema that lists its
/// fields (not "any object"), every error status is the problem document with its field-level
/// `errors`, and multipart bodies name their file parts — so an operation added without a
/// schema, or a schema that shrinks back to a free object, fails here.
#[test]
fn every_body_and_answer_has_a_schema() {
    let doc = staydown_server::api::openapi::document();
    let mut missing = Vec::new();
    for op in OPERATIONS {
        let o = &doc["paths"][op.full_path()][op.method.to_ascii_lowercase()];
        let name = format!("{} {}", op.method, op.path);
        if op.body != Body::None {
            let content = o["requestBody"]["content"].as_object().expect("request body content");
            for (media, c) in content {
                if media == "*/*" {
                    assert_eq!(op.body, Body::Bytes, "{name}");
                    continue;
                }
                match component(doc, &c["schema"]) {
                    Some((_, schema)) if describes_fields(doc, schema) => {}
                    _ => missing.push(format!("{name}: request body {media}")),
                }
                if media == "multipart/form-data" {
                    let (_, schema) = component(doc, &c["schema"]).expect("multipart schema");
                    let binary = schema["properties"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .any(|(_, p)| p["contentMediaType"] == "application/octet-stream");
                    assert!(binary, "{name}: multipart body without a file part: {schema}");
                }
            }
        }
        for (status, response) in o["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                let problem = response["content"]["application/problem+json"]["schema"]["$ref"].as_str();
                // A Cookie header HTTP does not allow is refused by hyper with a bare 400.
                let bare_400 = status == "400" && op.access == Access::Session;
                assert!(
                    bare_400 || problem == Some("#/components/schemas/ProblemDocument"),
                    "{name} {status} is not a problem document"
                );
            }
            let Some(content) = response["content"].as_object() else { continue };
            for (media, c) in content {
                if media == "application/problem+json" {
                    assert_eq!(c["schema"]["$ref"], "#/components/schemas/ProblemDocument", "{name} {status}");
                } else if media == "application/json" {
                    match component(doc, &c["schema"]) {
                        Some((_, schema)) if describes_fields(doc, schema) => {}
                        _ => missing.push(format!("{name}: answer {status}")),
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "bodies without a schema of their fields:\n{}", missing.join("\n"));
    // The problem document's field-level reasons.
    let errors = &doc["components"]["schemas"]["ProblemDocument"]["properties"]["errors"];
    let text = errors.to_string();
    assert!(text.contains("#/components/schemas/FieldProblem"), "{errors}");
    let field = &doc["components"]["schemas"]["FieldProblem"];
    for key in ["field", "code", "message"] {
        assert!(field["required"].as_array().unwrap().iter().any(|r| r == key), "FieldProblem.{key} required: {field}");
    }
}
