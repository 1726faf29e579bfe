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
        let page = app.client.get(format!("{}/hash", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("/static/pdq/pdq.js"));
        let (status, _) = app.get("/static/pdq/../../Cargo.toml", None).await;
        assert_eq!(status, 404);
    })
    .await;
}
