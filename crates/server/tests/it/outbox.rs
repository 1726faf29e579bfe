use staydown_server::outbox::{MAX_ATTEMPTS, deliver_due};

use crate::support::{each_backend, notice};

#[tokio::test]
async fn the_confirmation_of_receipt_is_delivered_and_shown() {
    each_backend(|app| async move {
        let mut body = notice("https://example.com/mail");
        body["language"] = serde_json::json!("nl");
        let receipt = app.file(&body, None).await;
        let (id, token) = (receipt["id"].as_str().unwrap(), receipt["tracking_token"].as_str().unwrap());
        assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
        let sent = app.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "test.person@example.org");
        assert_eq!(sent[0].subject, "We hebben uw melding ontvangen");
        assert!(sent[0].body.contains(token), "the tracking link is in the message");
        assert!(sent[0].body.contains(&format!("/track/{id}?token={token}")), "the link is the tracking page");
        assert!(sent[0].body.contains(&format!("Nummer van uw melding: {id}")), "{}", sent[0].body);
        // Delivered once: a second pass sends nothing.
        assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
        // The secret link is not kept after delivery.
        let item = &app.store().outbox_items("notice.received").await.unwrap()[0];
        assert!(item.delivered_at.is_some());
        assert!(!item.payload.to_string().contains(token));
        let (_, view) = app.get(&format!("/api/v1/notices/{id}?token={token}"), None).await;
        assert!(view["acknowledged_at"].is_string(), "{view}");
    })
    .await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_then_dead_lettered() {
    each_backend(|app| async move {
        app.file(&notice("https://example.com/retry"), None).await;
        *app.fail_next.lock().unwrap() = 2;
        assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
        let item = &app.store().outbox_items("notice.received").await.unwrap()[0];
        assert_eq!(item.attempts, 1);
        let error = item.last_error.as_deref().unwrap();
        // The SMTP-like rejection named the notifier's address; only the reason is stored.
        assert!(
            error.starts_with("simulated delivery failure") && error.contains("Recipient address rejected"),
            "{error}"
        );
        assert!(!error.contains('@'), "the notifier's e-mail address reached outbox.last_error: {error}");
        // Not due again until the back-off has passed.
        assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
        assert_eq!(app.store().outbox_items("notice.received").await.unwrap()[0].attempts, 1);
        app.advance(time::Duration::seconds(31));
        assert_eq!(deliver_due(&app.state).await.unwrap(), 0);
        app.advance(time::Duration::seconds(61));
        assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
        assert_eq!(app.sent.lock().unwrap().len(), 1);

        // A message that never goes through becomes a dead letter after MAX_ATTEMPTS.
        app.file(&notice("https://example.com/dead"), None).await;
        *app.fail_next.lock().unwrap() = u32::MAX;
        for _ in 0..MAX_ATTEMPTS {
            deliver_due(&app.state).await.unwrap();
            app.advance(time::Duration::hours(7));
        }
        let items = app.store().outbox_items("notice.received").await.unwrap();
        assert!(items[1].dead_at.is_some(), "{:?}", items[1]);
        assert_eq!(items[1].attempts, MAX_ATTEMPTS);
        let stats = app.store().outbox_stats().await.unwrap();
        assert_eq!((stats.delivered, stats.dead, stats.pending), (1, 1, 0));
    })
    .await;
}

/// With vault keys configured, a queued confirmation holds no usable tracking link at rest: it is
/// sealed in the payload, opened only to send, and dropped once delivered.
#[tokio::test]
async fn queued_tracking_links_are_sealed_at_rest() {
    for backend in staydown_testkit::backends().await {
        let keyring = staydown_vault::Keyring::parse(&format!("k {}", staydown_vault::generate_key_base64())).unwrap();
        let settings = staydown_server::Settings {
            public_url: "http://staydown.test".into(),
            vault: Some(keyring),
            ..staydown_server::Settings::default()
        };
        let app = crate::support::TestApp::start_with(backend, settings).await;
        let receipt = app.file(&notice("https://example.com/sealed"), None).await;
        let token = receipt["tracking_token"].as_str().unwrap();
        let queued = &app.store().outbox_items("notice.received").await.unwrap()[0];
        let at_rest = queued.payload.to_string();
        assert!(!at_rest.contains(token), "the tracking token sits in clear in the outbox: {at_rest}");
        assert!(queued.payload.get("sealed_secrets").is_some(), "{at_rest}");

        assert_eq!(deliver_due(&app.state).await.unwrap(), 1);
        let sent = app.sent.lock().unwrap().clone();
        assert!(sent[0].body.contains(token), "the e-mail carries the working link: {}", sent[0].body);
        let delivered = &app.store().outbox_items("notice.received").await.unwrap()[0];
        assert!(delivered.payload.get("sealed_secrets").is_none() && delivered.payload.get("tracking_url").is_none());
    }
}
