use serde_json::json;
use staydown_domain::roles::Role;

use crate::support::{each_backend, notice, removal};

const PDQ: &str = "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// A removal banks the content's hashes; the next upload of the same image is blocked at once
/// and opens a case for a person to confirm. A no-action decision banks nothing.
#[tokio::test]
async fn a_removed_image_is_blocked_when_it_comes_back() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "ray").await;
        let platform = app.key(Role::Platform, "uploads").await;
        let mut reported = notice("https://social.example/p/77");
        reported["hashes"] = json!({"sha256": "ab".repeat(32), "pdq": PDQ, "pdq_quality": 100});
        app.file(&reported, None).await;
        let mut other = notice("https://social.example/p/78");
        other["hashes"] = json!({"sha256": "cd".repeat(32)});
        app.file(&other, None).await;

        let before = app.post("/api/v1/screen", &json!({"sha256": "ab".repeat(32)}), Some(&platform)).await.1;
        assert_eq!(before["verdict"], "allow", "not banked before the decision: {before}");

        let queue = app.queue(&reviewer).await;
        for case in &queue {
            let id = case["case_id"].as_str().unwrap();
            let (_, view) = app.get(&format!("/api/v1/cases/{id}"), Some(&reviewer)).await;
            let decision = if view["notices"][0]["locations"][0]["url"] == "https://social.example/p/77" {
                removal()
            } else {
                json!({"explanation": "Not an intimate image."})
            };
            let (status, body) = app.post(&format!("/api/v1/cases/{id}/decision"), &decision, Some(&reviewer)).await;
            assert_eq!(status, 201, "{body}");
        }

        // The same file again, and a re-encoded copy (PDQ distance 2): both blocked.
        let again = app.post("/api/v1/screen", &json!({"sha256": "AB".repeat(32)}), Some(&platform)).await.1;
        assert_eq!(again["verdict"], "block", "{again}");
        assert_eq!(again["matches"][0]["bank"], "confirmed");
        let mut near = hex::decode(PDQ).unwrap();
        near[0] ^= 0b11;
        let copy =
            app.post("/api/v1/screen", &json!({"pdq": hex::encode(near), "pdq_quality": 90}), Some(&platform)).await.1;
        assert_eq!((copy["verdict"].as_str(), copy["matches"][0]["distance"].as_u64()), (Some("block"), Some(2)));
        // The block opened a case of its own (automated match) for a person to confirm.
        let queue = app.queue(&reviewer).await;
        assert_eq!(queue.len(), 1, "{queue:?}");
        assert_eq!(queue[0]["sources"], json!(["automated_match"]));
        // The image of the no-action decision was not banked.
        let fine = app.post("/api/v1/screen", &json!({"sha256": "cd".repeat(32)}), Some(&platform)).await.1;
        assert_eq!(fine["verdict"], "allow");
    })
    .await;
}

/// A victim's hash-only report, once a reviewer confirms it, holds matching uploads for review.
#[tokio::test]
async fn a_confirmed_hash_only_report_holds_future_uploads() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "hana").await;
        let platform = app.key(Role::Platform, "uploads").await;
        let report = json!({
            "explanation": "Someone threatens to post a nude photo of me. This is its hash.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "hashes": {"pdq": PDQ, "pdq_quality": 100},
            "notifier": {"name": "Test Person", "email": "test.person@example.org"},
            "good_faith": true
        });
        app.file(&report, None).await;
        let case_id = app.only_case(&reviewer).await;
        let (status, body) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        let answer = app.post("/api/v1/screen", &json!({"pdq": PDQ, "pdq_quality": 100}), Some(&platform)).await.1;
        assert_eq!(answer["verdict"], "hold", "{answer}");
        assert_eq!(answer["matches"][0]["bank"], "victim-submitted");
        assert!(app.store().outbox_items("content.remove").await.unwrap().is_empty(), "nothing online to remove");
    })
    .await;
}
