use staydown_server::Settings;
use staydown_testkit::backends;

use crate::support::TestApp;

fn vault_settings() -> Settings {
    let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
    Settings {
        public_url: "http://staydown.test".into(),
        vault: Some(keyring),
        blob_retention: Some(std::time::Duration::from_secs(30 * 86_400)),
        ..Settings::default()
    }
}

#[tokio::test]
async fn blobs_are_sealed_at_rest_and_every_access_is_in_the_custody_log() {
    for backend in backends().await {
        let app = TestApp::start_with(backend, vault_settings()).await;
        let secret = b"\x89PNG evidence-canary-7f3a bytes".repeat(100);
        let meta = staydown_server::blobs::seal_and_store(
            &app.state,
            "case:c1",
            "content",
            "image/png",
            secret.clone(),
            "key:k",
        )
        .await
        .unwrap();
        assert_eq!(meta.size, secret.len() as i64);
        assert_eq!(meta.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&secret)));
        assert!(meta.retain_until.is_some());

        // At rest: the database row holds no plaintext.
        let (_, sealed) = app.store().read_blob(&meta.id, "test", "inspect", app.state.now()).await.unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"canary-7f3a "), "plaintext stored ({backend:?})");

        let (_, plain) = staydown_server::blobs::open(&app.state, &meta.id, "account:rita", "preview").await.unwrap();
        assert_eq!(plain, secret);
        let custody: Vec<(String, String)> =
            app.store().blob_custody(&meta.id).await.unwrap().into_iter().map(|e| (e.action, e.actor)).collect();
        assert_eq!(
            custody,
            [
                ("blob.stored".to_owned(), "key:k".to_owned()),
                ("blob.read".to_owned(), "test".to_owned()),
                ("blob.read".to_owned(), "account:rita".to_owned()),
            ]
        );
        assert_eq!(
            app.store().blobs_of("case:c1").await.unwrap(),
            vec![app.store().blob_meta(&meta.id).await.unwrap()]
        );
    }
}

#[tokio::test]
async fn legal_hold_stops_erasure_and_retention_keeps_the_custody_log() {
    for backend in backends().await {
        let app = TestApp::start_with(backend, vault_settings()).await;
        let store_one = |bytes: &'static [u8]| {
            staydown_server::blobs::seal_and_store(
                &app.state,
                "helpline_case:h1",
                "evidence",
                "image/jpeg",
                bytes.to_vec(),
                "system",
            )
        };
        let held = store_one(b"held").await.unwrap();
        let plain = store_one(b"plain").await.unwrap();
        app.store()
            .set_blob_legal_hold(&held.id, true, "police report 2026-123", "account:a", app.state.now())
            .await
            .unwrap();
        let refused = app.store().erase_blob(&held.id, "request", "account:a", app.state.now()).await;
        assert!(matches!(refused, Err(staydown_store::StoreError::Conflict(_))), "{refused:?}");

        // Nothing expires before the retention period.
        assert_eq!(app.store().erase_expired_blobs(app.state.now()).await.unwrap(), 0);
        app.advance(time::Duration::days(31));
        assert_eq!(app.store().erase_expired_blobs(app.state.now()).await.unwrap(), 1, "only the blob without a hold");
        let erased = app.store().blob_meta(&plain.id).await.unwrap();
        assert!(erased.erased_at.is_some());
        let read = staydown_server::blobs::open(&app.state, &plain.id, "account:a", "preview").await;
        assert!(matches!(read, Err(staydown_server::problem::ApiError::Conflict(_))));
        assert!(staydown_server::blobs::open(&app.state, &held.id, "account:a", "export:police").await.is_ok());
        let actions: Vec<String> =
            app.store().blob_custody(&plain.id).await.unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["blob.stored", "blob.erased"]);
        assert!(app.store().verify_audit().await.unwrap().broken.is_none(), "erasure keeps the chain whole");
    }
}

#[tokio::test]
async fn without_vault_keys_storing_is_refused_with_a_clear_reason() {
    let app = TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let refused =
        staydown_server::blobs::seal_and_store(&app.state, "case:c", "content", "image/png", b"x".to_vec(), "system")
            .await;
    assert!(matches!(refused, Err(staydown_server::problem::ApiError::NotConfigured(m)) if m.contains("key_file")));
}
