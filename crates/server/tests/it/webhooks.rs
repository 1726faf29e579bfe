use serde_json::json;
use staydown_domain::roles::Role;

use staydown_server::Settings;

use crate::support::{Receiver, TestApp, WEBHOOK_SECRET, notice, removal, settings_with_webhook};

/// Failures are retried with back-off under the same delivery id; a receiver that applied an
/// event but lost its answer sees the retry as a duplicate, so the effect happens once.
#[tokio::test]
async fn webhooks_are_signed_retried_and_take_effect_exactly_once() {
    let receiver = Receiver::start().await;
    for backend in staydown_testkit::backends().await {
        *receiver.attempts.lock().unwrap() = Vec::new();
        *receiver.applied.lock().unwrap() = Vec::new();
        let app = TestApp::start_with(backend, settings_with_webhook(&receiver)).await;
        app.file(&notice("https://social.example/p/9"), None).await;
        let reviewer = app.staff(Role::Reviewer, "rob").await;
        let case_id = app.only_case(&reviewer).await;
        let mut decision = removal();
        decision["account"] = json!("suspended");
        let (status, body) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &decision, Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");

        // Two failures before anything is applied, then one applied-but-answer-lost.
        *receiver.fail_next.lock().unwrap() = 2;
        app.deliver().await;
        assert!(receiver.applied_events().is_empty());
        app.deliver().await;
        assert_eq!(receiver.attempts.lock().unwrap().len(), 2, "nothing is retried before its back-off");
        app.advance(time::Duration::seconds(31));
        *receiver.lose_answer_next.lock().unwrap() = 1;
        app.deliver().await;
        app.advance(time::Duration::minutes(5));
        app.deliver().await;
        app.advance(time::Duration::minutes(5));
        app.deliver().await;

        let attempts = receiver.attempts.lock().unwrap().clone();
        let mut events: Vec<String> = receiver.applied_events();
        events.sort();
        assert_eq!(events, ["account.suspend", "content.remove"], "each event applied once");
        let remove_attempts: Vec<_> = attempts.iter().filter(|d| d.event == "content.remove").collect();
        assert!(remove_attempts.len() >= 2, "retried: {remove_attempts:?}");
        assert!(remove_attempts.iter().all(|d| d.id == remove_attempts[0].id), "one stable delivery id");
        assert!(attempts.iter().all(|d| d.signature_ok));
        assert!(app.store().outbox_items("content.remove").await.unwrap().iter().all(|i| i.delivered_at.is_some()));
        // Once delivered, the uploader's appeal token is no longer kept in the outbox.
        let stored = app.store().outbox_items("content.remove").await.unwrap();
        assert!(stored[0].payload.get("uploader_appeal_token").is_none());
    }
}

/// A receiver that never accepts ends in the dead-letter view, visible to admins.
#[tokio::test]
async fn undeliverable_webhooks_become_dead_letters() {
    let receiver = Receiver::start().await;
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start_with(backend, settings_with_webhook(&receiver)).await;
    app.file(&notice("https://social.example/p/10"), None).await;
    let reviewer = app.staff(Role::Reviewer, "ria").await;
    let case_id = app.only_case(&reviewer).await;
    let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
    assert_eq!(status, 201);
    *receiver.fail_next.lock().unwrap() = u32::MAX;
    for _ in 0..staydown_server::outbox::MAX_ATTEMPTS {
        app.deliver().await;
        app.advance(time::Duration::hours(7));
    }
    let admin = app.key(Role::Admin, "admin").await;
    let (status, dead) = app.get("/api/v1/outbox/dead", Some(&admin)).await;
    assert_eq!(status, 200);
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["topic"], "content.remove");
    assert!(dead[0]["last_error"].as_str().unwrap().contains("500"));
}

/// A transport error names the URL; a receiver URL carrying a secret in its query must not leave
/// that secret in `outbox.last_error` (the one scrubber, `domain::scrub`).
#[tokio::test]
async fn transport_errors_are_stored_without_the_urls_secrets() {
    let backend = staydown_testkit::backends().await[0];
    // Nothing listens on a port we just bound and released: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = Settings {
        public_url: "http://staydown.test".into(),
        webhook: Some(staydown_server::WebhookSettings {
            url: format!("http://127.0.0.1:{port}/hooks?token=canary-secret-4b1d"),
            secret: WEBHOOK_SECRET.into(),
        }),
        ..Settings::default()
    };
    let app = TestApp::start_with(backend, settings).await;
    app.file(&notice("https://social.example/p/11"), None).await;
    let reviewer = app.staff(Role::Reviewer, "ria").await;
    let case_id = app.only_case(&reviewer).await;
    let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
    assert_eq!(status, 201);
    app.deliver().await;
    let item = &app.store().outbox_items("content.remove").await.unwrap()[0];
    let error = item.last_error.as_deref().expect("the delivery failed");
    assert!(error.contains("transport error"), "{error}");
    assert!(!error.contains("canary-secret-4b1d"), "the webhook URL's secret reached outbox.last_error: {error}");
}

/// `POST /api/v1/outbox/dead/{id}/resend`: an admin sends a dead letter again once the receiver
/// is back; it is delivered on the next round, leaves the dead-letter view and is audited. Only
/// admins may (an auditor sees the view but cannot re-send); an unknown id is 404, an item that is
/// not dead 409.
#[tokio::test]
async fn dead_letters_are_resent_by_admins() {
    let receiver = Receiver::start().await;
    for backend in staydown_testkit::backends().await {
        *receiver.applied.lock().unwrap() = Vec::new();
        let app = TestApp::start_with(backend, settings_with_webhook(&receiver)).await;
        app.file(&notice("https://social.example/p/12"), None).await;
        let reviewer = app.staff(Role::Reviewer, "ria").await;
        let case_id = app.only_case(&reviewer).await;
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201);
        *receiver.fail_next.lock().unwrap() = u32::MAX;
        for _ in 0..staydown_server::outbox::MAX_ATTEMPTS {
            app.deliver().await;
            app.advance(time::Duration::hours(7));
        }
        let admin = app.key(Role::Admin, "admin").await;
        let auditor = app.key(Role::Auditor, "auditor").await;
        let (_, dead) = app.get("/api/v1/outbox/dead", Some(&auditor)).await;
        let id = dead[0]["id"].as_str().expect("a dead letter").to_owned();
        let path = format!("/api/v1/outbox/dead/{id}/resend");
        assert_eq!(app.post(&path, &json!({}), Some(&auditor)).await.0, 403);
        assert!(receiver.applied_events().is_empty());

        *receiver.fail_next.lock().unwrap() = 0;
        let (status, body) = app.post(&path, &json!({}), Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["id"].as_str(), body["attempts"].as_i64()), (Some(id.as_str()), Some(0)));
        let (_, dead) = app.get("/api/v1/outbox/dead", Some(&admin)).await;
        assert_eq!(dead, json!([]), "no longer a dead letter");
        app.deliver().await;
        assert_eq!(receiver.applied_events(), ["content.remove"], "delivered on the next round");
        let (status, problem) = app.post(&path, &json!({}), Some(&admin)).await;
        assert_eq!(status, 409, "a delivered item is not re-sent: {problem}");
        let (status, _) = app.post("/api/v1/outbox/dead/no-such-item/resend", &json!({}), Some(&admin)).await;
        assert_eq!(status, 404);
        let audit = app.store().audit_for(&format!("outbox:{id}")).await.unwrap();
        assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["outbox.resent"]);
    }
}
