//! Real answers against the OpenAPI document (issue 15): a walk through the API — banks,
//! notices, screening, review, decisions, appeals, accounts and keys, operations, the helpline —
//! where every answer's status must be listed for its operation and its body must validate
//! against the JSON Schema the document gives for that status and media type (draft 2020-12,
//! formats asserted, with `boon`). Schemathesis checks the same in CI, but its random requests
//! seldom get past a 404 on the operations that need an existing case, decision or appeal; this
//! walk reaches their success answers.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use staydown_domain::roles::Role;

use staydown_server::Settings;

use crate::support::{TestApp, notice, removal};

const BASE: &str = "http://staydown.test/openapi";

/// The document, and the operations whose answers were checked.
struct Contract {
    doc: Value,
    defs: Value,
    seen: BTreeSet<String>,
    compiled: usize,
}

impl Contract {
    async fn load(app: &TestApp) -> Contract {
        let doc: Value =
            app.client.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
        let defs = rewrite(&doc["components"]["schemas"]);
        Contract { doc, defs, seen: BTreeSet::new(), compiled: 0 }
    }

    /// Sends `req` (the operation `method template`), checks the answer against the document and
    /// returns its status and JSON body (`Null` for none or for bytes).
    async fn send(&mut self, method: &str, template: &str, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let media = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let bytes = resp.bytes().await.expect("body");
        let what = format!("{method} {template} → {status}");
        let op = &self.doc["paths"][format!("/api/v1{template}")][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{what}: the operation is not in the document");
        let response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{what}: status not listed for the operation: {}",
            String::from_utf8_lossy(&bytes)
        );
        let content = &response["content"];
        let Some(media) = media.filter(|_| !bytes.is_empty()) else {
            assert!(content.is_null(), "{what}: no body, but the document describes one");
            self.seen.insert(format!("{method} {template} {status}"));
            return (status, Value::Null);
        };
        let described = content.get(&media).or_else(|| content.get("*/*"));
        let Some(described) = described else {
            panic!(
                "{what}: answered {media}, the document lists {:?}",
                content.as_object().map(|o| o.keys().collect::<Vec<_>>())
            );
        };
        let mut value = Value::Null;
        if media.ends_with("json") {
            value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"));
            let schema = described["schema"].clone();
            self.validate(&what, &schema, &value);
        }
        self.seen.insert(format!("{method} {template} {status}"));
        (status, value)
    }

    fn validate(&mut self, what: &str, schema: &Value, value: &Value) {
        let mut root = rewrite(schema);
        assert!(root.as_object().is_some_and(|o| !o.is_empty()), "{what}: empty schema {schema}");
        root["$defs"] = self.defs.clone();
        self.compiled += 1;
        let url = format!("{BASE}/{}.json", self.compiled);
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.enable_format_assertions();
        compiler.add_resource(&url, root).expect("add schema");
        let mut schemas = boon::Schemas::new();
        let index =
            compiler.compile(&url, &mut schemas).unwrap_or_else(|e| panic!("{what}: schema does not compile: {e:#}"));
        if let Err(e) = schemas.validate(value, index) {
            panic!("{what}: the answer breaks its schema:\n{e:#}\nanswer: {value:#}");
        }
    }
}

/// References into `components.schemas` as references into the validator's `$defs`.
fn rewrite(v: &Value) -> Value {
    serde_json::from_str(&v.to_string().replace("#/components/schemas/", "#/$defs/")).expect("json")
}

fn bearer(req: reqwest::RequestBuilder, key: &str) -> reqwest::RequestBuilder {
    req.bearer_auth(key)
}

/// A 64×64 PNG.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "staydown-openapi-boundary";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn id(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_else(|| panic!("no {field} in {v}")).to_owned()
}

/// Every answer of a walk through the API is listed for its operation and fits its schema.
#[tokio::test]
async fn answers_match_their_schemas() {
    for backend in staydown_testkit::backends().await {
        let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
        let settings = Settings {
            public_url: "http://staydown.test".into(),
            vault: Some(keyring),
            blob_retention: Some(std::time::Duration::from_secs(30 * 86_400)),
            law_enforcement_contact: Some("meldpunt@politie.example".into()),
            ..Settings::default()
        };
        let app = TestApp::start_with(backend, settings).await;
        let mut c = Contract::load(&app).await;
        let admin = app.staff(Role::Admin, "ada").await;
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        let senior = app.staff(Role::SeniorReviewer, "sam").await;
        let caseworker = app.staff(Role::Caseworker, "casey").await;
        let platform = app.key(Role::Platform, "platform").await;
        let flagger = app.key(Role::TrustedFlagger, "flagger").await;
        let url = |p: &str| format!("{}/api/v1{p}", app.base);
        let get = |p: &str| app.client.get(url(p));
        let post = |p: &str| app.client.post(url(p));

        // Catalogues and the document itself.
        c.send("GET", "/openapi.json", get("/openapi.json")).await;
        c.send("GET", "/categories", get("/categories")).await;
        c.send("GET", "/legal-grounds", get("/legal-grounds")).await;

        // Banks.
        let (s, _) = c
            .send("POST", "/banks", bearer(post("/banks"), &admin).json(&json!({"name": "ncii", "action": "block"})))
            .await;
        assert_eq!(s, 201);
        c.send("GET", "/banks", bearer(get("/banks"), &admin)).await;
        let (s, _) = c
            .send(
                "PATCH",
                "/banks/{name}",
                bearer(app.client.patch(url("/banks/ncii")), &admin).json(&json!({"dihedral": true})),
            )
            .await;
        assert_eq!(s, 200);
        let pdq = "9f".repeat(32);
        let (s, entry) = c
            .send(
                "POST",
                "/banks/{name}/entries",
                bearer(post("/banks/ncii/entries"), &admin).json(&json!({"pdq": pdq, "quality": 90, "reason": "test"})),
            )
            .await;
        assert_eq!(s, 201);
        c.send("GET", "/banks/{name}", bearer(get("/banks/ncii"), &admin)).await;
        let thresholds = json!({"query_pct": 80, "banked_pct": 70});
        let (s, _) = c
            .send(
                "PUT",
                "/banks/{name}/video-thresholds",
                bearer(app.client.put(url("/banks/ncii/video-thresholds")), &admin).json(&thresholds),
            )
            .await;
        assert_eq!(s, 200);
        c.send("GET", "/banks/{name}/videos", bearer(get("/banks/ncii/videos"), &admin)).await;
        let (s, _) = c
            .send(
                "DELETE",
                "/banks/{name}/entries/{id}",
                bearer(app.client.delete(url(&format!("/banks/ncii/entries/{}", id(&entry, "id")))), &admin),
            )
            .await;
        assert_eq!(s, 204);
        c.send("POST", "/banks/{name}/entries", bearer(post("/banks/ncii/entries"), &admin).json(&json!({"pdq": pdq})))
            .await;

        // Notices: anonymous and from a trusted flagger; invalid ones get a problem with reasons.
        let (s, filed) = c.send("POST", "/notices", post("/notices").json(&notice("https://social.example/p/1"))).await;
        assert_eq!(s, 201);
        let (s, _) = c.send("POST", "/notices", post("/notices").json(&json!({"locations": []}))).await;
        assert_eq!(s, 422);
        let (s, _) = c
            .send("POST", "/notices", bearer(post("/notices"), &flagger).json(&notice("https://other.example/v/2")))
            .await;
        assert_eq!(s, 201);
        let tracking = id(&filed, "tracking_token");
        let notice_path = format!("/notices/{}?token={tracking}", id(&filed, "id"));
        c.send("GET", "/notices/{id}", get(&notice_path)).await;
        let (s, _) = c.send("GET", "/notices/{id}", get(&format!("/notices/{}?token=wrong", id(&filed, "id")))).await;
        assert_eq!(s, 404);

        // Screening: hashes as JSON, an image as multipart.
        let (s, screened) = c
            .send(
                "POST",
                "/screen",
                bearer(post("/screen"), &platform).json(&json!({"pdq": pdq, "pdq_quality": 90, "content_id": "up-1"})),
            )
            .await;
        assert_eq!((s, screened["verdict"].as_str()), (200, Some("block")), "{screened}");
        let (ct, body) = multipart(&[("image", Some("a.png"), &png()), ("content_id", None, b"up-2")]);
        c.send("POST", "/screen", bearer(post("/screen"), &platform).header("content-type", ct).body(body)).await;

        // Review and decision.
        let (_, queue) = c.send("GET", "/queue", bearer(get("/queue"), &reviewer)).await;
        let case_id = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["sources"][0] == "article_16")
            .map(|e| id(e, "case_id"))
            .unwrap_or_else(|| panic!("the anonymous notice's case in {queue:#}"));
        c.send("POST", "/cases/{id}/take", bearer(post(&format!("/cases/{case_id}/take")), &reviewer)).await;
        let (ct, body) = multipart(&[("file", Some("item.png"), &png()), ("url", None, b"https://social.example/p/1")]);
        let (s, item) = c
            .send(
                "POST",
                "/cases/{id}/content",
                bearer(post(&format!("/cases/{case_id}/content")), &reviewer).header("content-type", ct).body(body),
            )
            .await;
        assert_eq!(s, 201, "{item}");
        let item_id = id(&item, "id");
        c.send(
            "GET",
            "/cases/{id}/content/{item}",
            bearer(get(&format!("/cases/{case_id}/content/{item_id}?purpose=review")), &reviewer),
        )
        .await;
        c.send(
            "POST",
            "/cases/{id}/content/{item}/legal-hold",
            bearer(post(&format!("/cases/{case_id}/content/{item_id}/legal-hold")), &admin)
                .json(&json!({"hold": true, "reason": "court order"})),
        )
        .await;
        c.send(
            "POST",
            "/cases/{id}/art18",
            bearer(post(&format!("/cases/{case_id}/art18")), &reviewer)
                .json(&json!({"grounds": "threat_to_life", "explanation": "A threat."})),
        )
        .await;
        c.send("GET", "/cases/{id}/art18", bearer(get(&format!("/cases/{case_id}/art18")), &reviewer)).await;
        let (s, bad) = c
            .send(
                "POST",
                "/cases/{id}/decision",
                bearer(post(&format!("/cases/{case_id}/decision")), &reviewer).json(&json!({"ground": "illegal"})),
            )
            .await;
        assert_eq!(s, 422, "{bad}");
        let (s, decided) = c
            .send(
                "POST",
                "/cases/{id}/decision",
                bearer(post(&format!("/cases/{case_id}/decision")), &reviewer).json(&removal()),
            )
            .await;
        assert_eq!(s, 201, "{decided}");
        let decision_id = id(&decided, "id");
        let uploader_token = id(&decided, "uploader_appeal_token");
        c.send("GET", "/decisions/{id}", bearer(get(&format!("/decisions/{decision_id}")), &reviewer)).await;
        c.send(
            "GET",
            "/decisions/{id}/statement",
            bearer(get(&format!("/decisions/{decision_id}/statement")), &platform),
        )
        .await;
        c.send(
            "GET",
            "/decisions/{id}/statement",
            get(&format!("/decisions/{decision_id}/statement?token={uploader_token}")),
        )
        .await;
        c.send("GET", "/notices/{id}", get(&notice_path)).await;

        // An appeal and its outcome.
        let (s, appeal) = c
            .send(
                "POST",
                "/decisions/{id}/appeals",
                post(&format!("/decisions/{decision_id}/appeals"))
                    .json(&json!({"token": uploader_token, "reason": "It is me and I consented."})),
            )
            .await;
        assert_eq!(s, 201, "{appeal}");
        let appeal_id = id(&appeal, "id");
        c.send("GET", "/appeals", bearer(get("/appeals"), &senior)).await;
        c.send("GET", "/appeals/{id}", bearer(get(&format!("/appeals/{appeal_id}")), &senior)).await;
        c.send("GET", "/cases/{id}", bearer(get(&format!("/cases/{case_id}")), &reviewer)).await;
        let (s, outcome) = c
            .send(
                "POST",
                "/appeals/{id}/decision",
                bearer(post(&format!("/appeals/{appeal_id}/decision")), &senior)
                    .json(&json!({"outcome": "upheld", "reasons": "The image was shared without consent."})),
            )
            .await;
        assert!(s < 300, "{outcome}");
        c.send("GET", "/appeals/{id}", bearer(get(&format!("/appeals/{appeal_id}")), &senior)).await;

        // Accounts and keys.
        let (s, account) = c
            .send(
                "POST",
                "/accounts",
                bearer(post("/accounts"), &admin)
                    .json(&json!({"username": "otto", "role": "auditor", "password": "otto-correct-horse-battery"})),
            )
            .await;
        assert_eq!(s, 201);
        let account_id = id(&account, "id");
        c.send("GET", "/accounts", bearer(get("/accounts"), &admin)).await;
        c.send("POST", "/accounts/{id}/disable", bearer(post(&format!("/accounts/{account_id}/disable")), &admin))
            .await;
        c.send("POST", "/accounts/{id}/enable", bearer(post(&format!("/accounts/{account_id}/enable")), &admin)).await;
        c.send(
            "POST",
            "/accounts/{id}/password",
            bearer(post(&format!("/accounts/{account_id}/password")), &admin)
                .json(&json!({"password": "otto-second-horse-battery"})),
        )
        .await;
        let (s, key) =
            c.send("POST", "/keys", post("/keys").basic_auth("otto", Some("otto-second-horse-battery"))).await;
        assert_eq!(s, 201, "{key}");
        let auditor = id(&key, "key");
        c.send("GET", "/keys", bearer(get("/keys"), &auditor)).await;
        c.send(
            "POST",
            "/account/password",
            bearer(post("/account/password"), &auditor).json(
                &json!({"current_password": "otto-second-horse-battery", "new_password": "otto-third-horse-battery"}),
            ),
        )
        .await;
        c.send("GET", "/keys", bearer(get("/keys"), &admin)).await;
        c.send(
            "DELETE",
            "/keys/{id}",
            bearer(app.client.delete(url(&format!("/keys/{}", id(&key, "key_id")))), &admin),
        )
        .await;
        c.send("GET", "/session", get("/session")).await;

        // Operations and figures.
        c.send("GET", "/outbox/dead", bearer(get("/outbox/dead"), &admin)).await;
        c.send("GET", "/misuse", bearer(get("/misuse"), &admin)).await;
        c.send("GET", "/transparency/submissions", bearer(get("/transparency/submissions"), &admin)).await;
        c.send(
            "POST",
            "/transparency/submissions/requeue",
            bearer(post("/transparency/submissions/requeue"), &admin).json(&json!({"all_failed": true})),
        )
        .await;
        c.send("GET", "/stats", bearer(get("/stats"), &admin)).await;

        // The helpline.
        let (s, platform_row) = c
            .send(
                "POST",
                "/helpline/platforms",
                bearer(post("/helpline/platforms"), &caseworker)
                    .json(&json!({"name": "Q", "email": "abuse@q.example"})),
            )
            .await;
        assert_eq!(s, 201, "{platform_row}");
        c.send("GET", "/helpline/platforms", bearer(get("/helpline/platforms"), &caseworker)).await;
        let (s, help) = c
            .send(
                "POST",
                "/helpline/cases",
                bearer(post("/helpline/cases"), &caseworker).json(&json!({
                    "summary": "A deepnude in a class chat.", "channel": "chat", "image_kind": "ai_generated",
                    "exposure": "public", "minor_involved": "no", "consent": true,
                    "contact": {"name": "A. Person", "email": "a.person@example.org"},
                })),
            )
            .await;
        assert_eq!(s, 201, "{help}");
        let help_id = id(&help, "id");
        c.send(
            "POST",
            "/helpline/cases/{id}/referrals",
            bearer(post(&format!("/helpline/cases/{help_id}/referrals")), &caseworker).json(&json!({"kind": "police"})),
        )
        .await;
        let (s, request) = c
            .send(
                "POST",
                "/helpline/cases/{id}/requests",
                bearer(post(&format!("/helpline/cases/{help_id}/requests")), &caseworker).json(&json!({
                    "platform": id(&platform_row, "id"), "url": "https://q.example/p/9",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE", "legal_ground": "nl-sr-254ba",
                    "explanation": "An AI-generated nude image, published without consent.",
                })),
            )
            .await;
        assert_eq!(s, 201, "{request}");
        let request_id = id(&request, "id");
        c.send("GET", "/helpline/requests/{id}", bearer(get(&format!("/helpline/requests/{request_id}")), &caseworker))
            .await;
        c.send(
            "POST",
            "/helpline/requests/{id}/answer",
            bearer(post(&format!("/helpline/requests/{request_id}/answer")), &caseworker)
                .json(&json!({"state": "removed"})),
        )
        .await;
        let (s, evidence) = c
            .send(
                "POST",
                "/helpline/cases/{id}/evidence",
                bearer(post(&format!("/helpline/cases/{help_id}/evidence?kind=screenshot")), &caseworker)
                    .header("content-type", "image/png")
                    .body(png()),
            )
            .await;
        assert_eq!(s, 201, "{evidence}");
        let evidence_id = id(&evidence, "id");
        c.send(
            "GET",
            "/helpline/cases/{id}/evidence",
            bearer(get(&format!("/helpline/cases/{help_id}/evidence")), &caseworker),
        )
        .await;
        c.send(
            "POST",
            "/helpline/evidence/{id}/legal-hold",
            bearer(post(&format!("/helpline/evidence/{evidence_id}/legal-hold")), &caseworker)
                .json(&json!({"hold": true})),
        )
        .await;
        c.send(
            "GET",
            "/helpline/evidence/{id}",
            bearer(get(&format!("/helpline/evidence/{evidence_id}?purpose=police")), &caseworker),
        )
        .await;
        c.send(
            "POST",
            "/helpline/cases/{id}/hashes",
            bearer(post(&format!("/helpline/cases/{help_id}/hashes")), &caseworker)
                .json(&json!({"pdq": "3c".repeat(32)})),
        )
        .await;
        c.send(
            "GET",
            "/helpline/cases/{id}/hashes",
            bearer(get(&format!("/helpline/cases/{help_id}/hashes")), &caseworker),
        )
        .await;
        c.send(
            "GET",
            "/helpline/cases/{id}",
            bearer(get(&format!("/helpline/cases/{help_id}?contact=true")), &caseworker),
        )
        .await;
        c.send(
            "GET",
            "/helpline/cases/{id}/police-bundle",
            bearer(get(&format!("/helpline/cases/{help_id}/police-bundle")), &caseworker),
        )
        .await;
        c.send(
            "GET",
            "/helpline/platforms/{id}/pack",
            bearer(get(&format!("/helpline/platforms/{}/pack", id(&platform_row, "id"))), &caseworker),
        )
        .await;
        c.send(
            "DELETE",
            "/helpline/evidence/{id}",
            bearer(app.client.delete(url(&format!("/helpline/evidence/{evidence_id}"))), &caseworker),
        )
        .await;
        c.send("POST", "/helpline/sync", bearer(post("/helpline/sync"), &caseworker)).await;
        c.send("GET", "/helpline/league", bearer(get("/helpline/league"), &caseworker)).await;
        c.send("GET", "/helpline/figures", bearer(get("/helpline/figures"), &caseworker)).await;
        c.send(
            "DELETE",
            "/helpline/cases/{id}/contact",
            bearer(app.client.delete(url(&format!("/helpline/cases/{help_id}/contact"))), &caseworker),
        )
        .await;

        let operations: BTreeSet<&str> = c.seen.iter().map(|s| s.rsplit_once(' ').unwrap().0).collect();
        eprintln!("{:?}: {} operations, {} (operation, status) pairs checked", backend, operations.len(), c.seen.len());
        assert!(operations.len() >= 55, "only {} operations answered: {:?}", operations.len(), c.seen);
    }
}
