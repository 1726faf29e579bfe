use crate::support::{each_backend, notice};

/// Status, content type and JSON body of a response.
type Answer = (u16, String, serde_json::Value);

async fn raw(
    app: &crate::support::TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let resp = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, resp.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn every_error_is_a_problem_document() {
    each_backend(|app| async move {
        let post = reqwest::Method::POST;
        let cases: Vec<(&str, u16, &str, Answer)> = vec![
            (
                "malformed JSON",
                400,
                "malformed-json",
                raw(&app, post.clone(), "/api/v1/notices", "application/json", b"{\"locations\":".to_vec()).await,
            ),
            (
                "not JSON",
                415,
                "unsupported-media-type",
                raw(&app, post.clone(), "/api/v1/notices", "text/plain", b"hello".to_vec()).await,
            ),
            (
                "too large",
                413,
                "payload-too-large",
                raw(&app, post.clone(), "/api/v1/notices", "application/json", {
                    let mut body = notice("https://example.com/big");
                    body["explanation"] = serde_json::json!("x".repeat(100_000));
                    serde_json::to_vec(&body).unwrap()
                })
                .await,
            ),
            (
                "wrong type",
                422,
                "validation-failed",
                raw(&app, post.clone(), "/api/v1/notices", "application/json", br#"{"good_faith": "yes"}"#.to_vec())
                    .await,
            ),
            (
                "unknown field",
                422,
                "validation-failed",
                raw(
                    &app,
                    post.clone(),
                    "/api/v1/notices",
                    "application/json",
                    br#"{"notifier": {"phone": "0612345678"}}"#.to_vec(),
                )
                .await,
            ),
            (
                "unknown path",
                404,
                "not-found",
                raw(&app, reqwest::Method::GET, "/api/v1/nope", "application/json", vec![]).await,
            ),
            (
                "wrong method",
                405,
                "method-not-allowed",
                raw(&app, reqwest::Method::DELETE, "/api/v1/notices", "application/json", vec![]).await,
            ),
        ];
        for (what, status, code, (got_status, content_type, body)) in cases {
            assert_eq!(got_status, status, "{what}: {body}");
            assert_eq!(content_type, "application/problem+json", "{what}");
            assert_eq!(body["type"], format!("/problems/{code}"), "{what}");
            assert_eq!(body["status"], status, "{what}");
            assert!(body["title"].is_string() && body["detail"].is_string(), "{what}");
        }
        // Field-level reasons for type errors and unknown fields.
        let (_, _, wrong_type) = raw(
            &app,
            reqwest::Method::POST,
            "/api/v1/notices",
            "application/json",
            br#"{"good_faith": "yes"}"#.to_vec(),
        )
        .await;
        assert_eq!(wrong_type["errors"][0]["field"], "good_faith");
        let (_, _, unknown) = raw(
            &app,
            reqwest::Method::POST,
            "/api/v1/notices",
            "application/json",
            br#"{"notifier": {"phone": "1"}}"#.to_vec(),
        )
        .await;
        assert_eq!(unknown["errors"][0]["field"], "notifier.phone");
        assert_eq!(unknown["errors"][0]["code"], "unknown_field");
        assert_eq!(app.store().count_notices().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn health_reports_the_database() {
    each_backend(|app| async move {
        let (status, body) = app.get("/healthz", None).await;
        assert_eq!((status, body["database"].as_str()), (200, Some("ok")));
        let (status, body) = app.get("/readyz", None).await;
        assert_eq!((status, body["database"].as_str()), (200, Some("ok")));
        let (status, body) = app.get("/livez", None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
        // Every answer carries a request id: the caller's when it is a plain token, else a new one.
        let echoed =
            app.client.get(format!("{}/livez", app.base)).header("x-request-id", "abc-123").send().await.unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "abc-123");
        let fresh = app
            .client
            .get(format!("{}/livez", app.base))
            .header("x-request-id", "bad id\twith\tcontrol")
            .send()
            .await
            .unwrap();
        assert_eq!(fresh.headers()["x-request-id"].len(), 36, "a UUID replaces an unusable id");
    })
    .await;
}

#[tokio::test]
async fn the_in_browser_hasher_is_served_without_a_build_step() {
    each_backend(|app| async move {
        let wasm = app.client.get(format!("{}/static/pdq/staydown_pdq_wasm_bg.wasm", app.base)).send().await.unwrap();
        assert_eq!(wasm.status(), 200);
        assert_eq!(wasm.headers()["content-type"], "application/wasm");
        let bytes = wasm.bytes().await.unwrap();
        assert_eq!(&bytes[..4], b"\0asm");
        // `/hash` moved to the hash-only report page, which loads the module from its script.
        let page = app.client.get(format!("{}/hash", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("/static/report-hashes.js"));
        let (status, _) = app.get("/static/pdq/../../Cargo.toml", None).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn anonymous_floods_are_rate_limited_per_address_but_flaggers_are_not() {
    let db = staydown_testkit::fresh_database(staydown_testkit::Backend::Sqlite).await;
    let store = staydown_store::Store::connect(&db.url).await.unwrap();
    let settings =
        staydown_server::Settings { public_notices_per_minute: 1, public_notice_burst: 3, ..Default::default() };
    let state = staydown_server::AppState::new(
        store,
        Default::default(),
        settings,
        staydown_server::Mailer::None,
        staydown_server::system_clock(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The real serve path (with the peer address), as `staydown serve` runs it.
    tokio::spawn(staydown_server::serve(listener, state.clone(), std::future::pending()));
    let client = reqwest::Client::new();
    let (id, key) = staydown_server::auth::generate_api_key();
    let role = staydown_domain::roles::Role::TrustedFlagger;
    state.store().create_api_key(&id, "TF", role, &staydown_domain::secret_digest(&key), state.now()).await.unwrap();

    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = client
            .post(format!("{base}/api/v1/notices"))
            .json(&notice(&format!("https://x.example/{i}")))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["type"], "/problems/rate-limited");
        }
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    // Nothing from the refused requests was stored.
    assert_eq!(state.store().count_notices().await.unwrap(), 3);
    // A trusted flagger on the same address is not limited.
    for i in 0..5 {
        let mut body = notice(&format!("https://tf.example/{i}"));
        body["notifier"] = serde_json::Value::Null;
        let r = client.post(format!("{base}/api/v1/notices")).bearer_auth(&key).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
}

/// NUL made PostgreSQL answer 503 (and re-run the whole group-commit batch) while SQLite stored it;
/// now every control or bidi-override character is a field error on both, and URLs that a parser
/// would silently change (line breaks, zero-width characters) are refused rather than rewritten.
#[tokio::test]
async fn control_characters_get_a_field_error_on_both_backends_and_nothing_is_stored() {
    each_backend(|app| async move {
        let mut cases: Vec<(serde_json::Value, &str, &str)> = Vec::new();
        let mut nul = notice("https://example.com/nul");
        nul["explanation"] = serde_json::json!("a fake nude\u{0} of me");
        cases.push((nul, "explanation", "control_character"));
        let mut name = notice("https://example.com/bidi");
        name["notifier"]["name"] = serde_json::json!("Eve \u{202e}reveR");
        cases.push((name, "notifier.name", "control_character"));
        let mut email = notice("https://example.com/mail");
        email["notifier"]["email"] = serde_json::json!("eve\u{0}@example.org");
        cases.push((email, "notifier.email", "control_character"));
        let mut crlf = notice("https://example.com/x");
        crlf["locations"][0]["url"] = serde_json::json!("https://exam\r\nple.com/p/1");
        cases.push((crlf, "locations[0].url", "invalid"));
        let mut zero_width = notice("https://example.com/x");
        zero_width["locations"][0]["url"] = serde_json::json!("https://example.com/p/\u{200b}1");
        cases.push((zero_width, "locations[0].url", "invalid"));
        for (body, field, code) in cases {
            let (status, problem) = app.post("/api/v1/notices", &body, None).await;
            assert_eq!(status, 422, "{field} on {:?}: {problem}", app.backend);
            let errors = problem["errors"].as_array().unwrap();
            assert!(
                errors.iter().any(|e| e["field"] == field && e["code"] == code),
                "{field}/{code} on {:?}: {problem}",
                app.backend
            );
        }
        let queue_key = app.key(staydown_domain::roles::Role::Reviewer, "r").await;
        let queue = app.get("/api/v1/queue", Some(&queue_key)).await;
        assert_eq!(queue.1.as_array().map(Vec::len), Some(0), "a refused notice left a case behind");
    })
    .await;
}

/// The framework's own rejections (a query string or path that does not parse) used to answer
/// `text/plain`; every error is a problem document now, naming the field where it can.
#[tokio::test]
async fn framework_rejections_are_problem_documents() {
    each_backend(|app| async move {
        let reviewer = app.key(staydown_domain::roles::Role::Reviewer, "r").await;
        let admin = app.key(staydown_domain::roles::Role::Admin, "a").await;
        for (path, key, field) in
            [("/api/v1/queue?limit=abc", &reviewer, "query.limit"), ("/api/v1/banks/%FF%FE", &admin, "path")]
        {
            let resp = app.client.get(format!("{}{path}", app.base)).bearer_auth(key).send().await.unwrap();
            assert_eq!(resp.status(), 400, "{path}");
            assert_eq!(resp.headers()["content-type"], "application/problem+json", "{path}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["type"], "/problems/bad-request", "{path}: {body}");
            assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{path}: {body}");
        }
    })
    .await;
}
