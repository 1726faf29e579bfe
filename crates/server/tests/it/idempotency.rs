//! `Idempotency-Key`: a retried create call gets the first answer, never a duplicate — also when
//! the first answer was lost on the way back.

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use tokio::io::AsyncWriteExt;

use crate::support::{TestApp, each_backend, notice, removal};

async fn post_with_key(app: &TestApp, path: &str, body: &Value, auth: Option<&str>, key: &str) -> reqwest::Response {
    let mut req = app.client.post(format!("{}{path}", app.base)).header("idempotency-key", key).json(body);
    if let Some(a) = auth {
        req = req.bearer_auth(a);
    }
    req.send().await.unwrap()
}

async fn open_cases(app: &TestApp) -> usize {
    let reviewer = app.key(Role::Reviewer, "counter").await;
    app.get("/api/v1/queue", Some(&reviewer)).await.1.as_array().unwrap().len()
}

#[tokio::test]
async fn a_retried_notice_gets_the_first_answer_and_files_nothing_twice() {
    each_backend(|app| async move {
        let body = notice("https://social.example/p/idem");
        let first = post_with_key(&app, "/api/v1/notices", &body, None, "retry-1").await;
        assert_eq!(first.status(), 201);
        let location = first.headers()["location"].clone();
        let first: Value = first.json().await.unwrap();
        let again = post_with_key(&app, "/api/v1/notices", &body, None, "retry-1").await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first, "the same receipt, tracking token included");
        assert_eq!(open_cases(&app).await, 1);

        // The same key for a different request is a mistake, not a retry.
        let other = notice("https://social.example/p/other");
        let reused = post_with_key(&app, "/api/v1/notices", &other, None, "retry-1").await;
        assert_eq!(reused.status(), 422);
        let problem: Value = reused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "reused", "{problem}");

        // Keys are per caller: a trusted flagger's "retry-1" is its own.
        let flagger = app.key(Role::TrustedFlagger, "tf").await;
        let theirs = post_with_key(&app, "/api/v1/notices", &other, Some(&flagger), "retry-1").await;
        assert_eq!(theirs.status(), 201);
        assert!(theirs.headers().get("idempotent-replayed").is_none());
    })
    .await;
}

#[tokio::test]
async fn a_retried_decision_is_taken_once() {
    each_backend(|app| async move {
        app.file(&notice("https://social.example/p/d1"), None).await;
        let reviewer = app.staff(Role::Reviewer, "rae").await;
        let case_id = app.only_case(&reviewer).await;
        let path = format!("/api/v1/cases/{case_id}/decision");
        let first: Value = post_with_key(&app, &path, &removal(), Some(&reviewer), "d-1").await.json().await.unwrap();
        let again = post_with_key(&app, &path, &removal(), Some(&reviewer), "d-1").await;
        assert_eq!(again.status(), 201);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(app.store().outbox_items("content.remove").await.unwrap().len(), 1, "one webhook, one decision");
    })
    .await;
}

/// The client sends a notice and hangs up before the answer: the notice is still filed, and the
/// retry gets its receipt instead of filing it again.
#[tokio::test]
async fn a_lost_answer_is_recovered_by_the_retry() {
    each_backend(|app| async move {
        let body = serde_json::to_vec(&notice("https://social.example/p/lost")).unwrap();
        let host = app.base.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "POST /api/v1/notices HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Idempotency-Key: lost-1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
        stream.flush().await.unwrap();
        // The server has the notice; the client never reads the answer and hangs up.
        for _ in 0..100 {
            if open_cases(&app).await == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(open_cases(&app).await, 1, "the first request was filed");
        drop(stream);

        let json_body: Value = serde_json::from_slice(&body).unwrap();
        let mut answer = None;
        for _ in 0..100 {
            let resp = post_with_key(&app, "/api/v1/notices", &json_body, None, "lost-1").await;
            if resp.status() == 409 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            answer = Some((resp.status().as_u16(), resp.headers().get("idempotent-replayed").is_some()));
            break;
        }
        assert_eq!(answer, Some((201, true)), "the retry got the first answer");
        assert_eq!(open_cases(&app).await, 1, "filed exactly once");
    })
    .await;
}

#[tokio::test]
async fn a_malformed_key_is_refused() {
    let app = TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let resp = post_with_key(&app, "/api/v1/notices", &json!({}), None, &"k".repeat(300)).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}
