use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_server::Settings;

use crate::support::{TestApp, each_backend, removal};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/c2pa/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn vault_settings() -> Settings {
    let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
    Settings {
        public_url: "http://staydown.test".into(),
        vault: Some(keyring),
        blob_retention: Some(std::time::Duration::from_secs(30 * 86_400)),
        ..Settings::default()
    }
}

async fn screen(app: &TestApp, platform: &str, image: &[u8], content_id: &[u8]) -> Value {
    let parts: [(&str, Option<&str>, &[u8]); 2] =
        [("image", Some("upload.jpg"), image), ("content_id", None, content_id)];
    let (status, body) = app.post_multipart("/api/v1/screen", &parts, Some(platform)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A notice with a URL only (no hash), as a new user files it.
fn url_only(url: &str, content_id: &str) -> Value {
    let mut n = crate::support::notice(url);
    n["locations"] = json!([{"url": url, "content_id": content_id}]);
    n
}

/// Issue 12's story: a URL-only report that leads to removal banked nothing and the re-upload
/// passed. With the content attached by the platform (encrypted at rest, read back through the
/// custody log), the removal banks its hashes and the re-upload is blocked by `/api/v1/screen`.
#[tokio::test]
async fn attached_content_of_a_url_only_report_is_banked_by_the_removal() {
    for backend in staydown_testkit::backends().await {
        let app = TestApp::start_with(backend, vault_settings()).await;
        let platform = app.key(Role::Platform, "platform").await;
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        let image = fixture("ocsp.jpg");

        // Without attached content: removal banks nothing, the re-upload passes (the old gap).
        let filed = app.file(&url_only("https://social.example/p/1", "post-1"), Some(&platform)).await;
        let case_id = filed["case_id"].as_str().unwrap().to_owned();
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201);
        assert_eq!(screen(&app, &platform, &image, b"reupload-1").await["verdict"], "allow");

        // With the platform attaching the bytes of the reported item.
        let filed = app.file(&url_only("https://social.example/p/2", "post-2"), Some(&platform)).await;
        let case_id = filed["case_id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/cases/{case_id}/content");
        let parts: [(&str, Option<&str>, &[u8]); 2] =
            [("file", Some("post-2.jpg"), &image), ("content_id", None, b"post-2")];
        let auditor = app.key(Role::Auditor, "aud").await;
        assert_eq!(app.post_multipart(&path, &parts, Some(&auditor)).await.0, 403);
        let (status, attached) = app.post_multipart(&path, &parts, Some(&platform)).await;
        assert_eq!(status, 201, "{attached}");
        assert!(attached["hashes"]["pdq"].is_string() && attached["retain_until"].is_string(), "{attached}");
        let item = attached["id"].as_str().unwrap();
        // Encrypted at rest: the stored row is not the image.
        let blob = attached["blob_id"].as_str().unwrap();
        let (_, sealed) = app.store().read_blob(blob, "test", "inspect", app.state.now()).await.unwrap();
        assert!(sealed.len() > image.len() && !sealed.windows(64).any(|w| w == &image[1000..1064]));
        // Staff read it back; the read is in the blob's custody log with its purpose.
        let resp = app
            .client
            .get(format!("{}/api/v1/cases/{case_id}/content/{item}?purpose=reveal", app.base))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), image.as_slice());
        let custody = app.store().blob_custody(blob).await.unwrap();
        assert!(custody.iter().any(|e| e.action == "blob.read" && e.detail.contains("reveal")), "{custody:?}");
        let (_, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
        assert_eq!(case["content"][0]["hashes"]["sha256"], attached["hashes"]["sha256"]);

        let (status, decided) =
            app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let verdict = screen(&app, &platform, &image, b"reupload-2").await;
        assert_eq!(verdict["verdict"], "block", "{verdict}");
        assert_eq!(verdict["matches"][0]["bank"], "confirmed");

        // Legal hold: senior reviewers and admins only, with a reason.
        let senior = app.staff(Role::SeniorReviewer, "sen").await;
        let hold = format!("/api/v1/cases/{case_id}/content/{item}/legal-hold");
        assert_eq!(app.post(&hold, &json!({"hold": true, "reason": "police request"}), Some(&reviewer)).await.0, 403);
        let (status, body) = app.post(&hold, &json!({"hold": true}), Some(&senior)).await;
        assert_eq!((status, crate::support::error_fields(&body)), (422, vec!["reason".to_owned()]));
        assert_eq!(
            app.post(&hold, &json!({"hold": true, "reason": "police request PV-12"}), Some(&senior)).await.0,
            204
        );
        assert!(app.store().blob_meta(blob).await.unwrap().legal_hold);
        app.advance(time::Duration::days(31));
        app.store().erase_expired_blobs(app.state.now()).await.unwrap();
        assert!(app.store().blob_meta(blob).await.unwrap().erased_at.is_none(), "held past retention");
    }
}

/// Content screened earlier (allowed, nothing matched) under a platform content id is linked to a
/// later URL-only notice naming that id, and the removal banks it.
#[tokio::test]
async fn content_screened_earlier_with_the_same_content_id_is_linked_and_banked() {
    each_backend(|app| async move {
        let platform = app.key(Role::Platform, "platform").await;
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        let image = fixture("CA.jpg");
        assert_eq!(screen(&app, &platform, &image, b"upload-77").await["verdict"], "allow");
        let filed = app.file(&url_only("https://social.example/p/77", "upload-77"), None).await;
        let case_id = app.only_case(&reviewer).await;
        assert!(filed["id"].is_string());
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201);
        let (_, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
        assert_eq!(case["content"].as_array().unwrap().len(), 1, "{case}");
        assert_eq!(case["content"][0]["content_id"], "upload-77");
        let audit = app.store().audit_for(&format!("case:{case_id}")).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "case.content_linked"));
        let verdict = screen(&app, &platform, &image, b"upload-78").await;
        assert_eq!(verdict["verdict"], "block", "{verdict}");
        // Without a vault key, attaching is refused with a clear problem and nothing is stored.
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("file", Some("x.jpg"), &image)];
        let (status, body) =
            app.post_multipart(&format!("/api/v1/cases/{case_id}/content"), &parts, Some(&platform)).await;
        assert_eq!(status, 503, "{body}");
    })
    .await;
}
