use serde_json::json;

use crate::support::{each_backend, error_fields, notice};

#[tokio::test]
async fn a_valid_notice_is_stored_and_acknowledged() {
    each_backend(|app| async move {
        let resp = app
            .client
            .post(format!("{}/api/v1/notices", app.base))
            .json(&notice("https://example.com/p/1"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let receipt: serde_json::Value = resp.json().await.unwrap();
        let id = receipt["id"].as_str().unwrap();
        assert_eq!(location, format!("/api/v1/notices/{id}"));
        assert_eq!(receipt["tracking_token"].as_str().unwrap().len(), 64);
        assert!(receipt["received_at"].is_string());
        assert!(receipt["tracking_url"].as_str().unwrap().starts_with("http://staydown.test/track/"));
        // Anonymous callers do not learn internal case ids.
        assert!(receipt.get("case_id").is_none());
        assert_eq!(app.store().count_notices().await.unwrap(), 1);
        // The confirmation of receipt (Art. 16(4)) is queued in the same transaction.
        let queued = app.store().outbox_items("notice.received").await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].notice_id.as_deref(), Some(id));
    })
    .await;
}

#[tokio::test]
async fn each_missing_mandatory_element_is_named() {
    each_backend(|app| async move {
        // (what we remove or change, the field the problem must name)
        let cases: Vec<(&str, serde_json::Value, Vec<&str>)> = vec![
            ("locations", json!({"locations": null}), vec!["locations"]),
            ("empty location", json!({"locations": [{}]}), vec!["locations[0]"]),
            ("explanation", json!({"explanation": null}), vec!["explanation"]),
            ("blank explanation", json!({"explanation": "   "}), vec!["explanation"]),
            ("category", json!({"category": null}), vec!["category"]),
            ("good faith missing", json!({"good_faith": null}), vec!["good_faith"]),
            ("good faith false", json!({"good_faith": false}), vec!["good_faith"]),
            ("notifier", json!({"notifier": null}), vec!["notifier.name", "notifier.email"]),
            ("email", json!({"notifier": {"name": "X"}}), vec!["notifier.email"]),
            ("bad url", json!({"locations": [{"url": "not a url"}]}), vec!["locations[0].url"]),
            ("bad category", json!({"category": "STATEMENT_CATEGORY_NUDITY"}), vec!["category"]),
            ("bad keyword", json!({"keywords": ["KEYWORD_NUDITY", "KEYWORD_X"]}), vec!["keywords[1]"]),
            ("bad legal ground", json!({"legal_ground": "nl-sr-999"}), vec!["legal_ground"]),
            ("bad hash", json!({"hashes": {"pdq": "xyz"}}), vec!["hashes[0].pdq"]),
        ];
        for (what, patch, expected) in cases {
            let mut body = notice("https://example.com/p/2");
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, problem) = app.post("/api/v1/notices", &body, None).await;
            assert_eq!(status, 422, "{what}: {problem}");
            assert_eq!(problem["type"], "/problems/validation-failed", "{what}");
            assert_eq!(error_fields(&problem), expected, "{what}: {problem}");
        }
        // Nothing was stored by any of them.
        assert_eq!(app.store().count_notices().await.unwrap(), 0);
        // An empty body names every element at once.
        let (status, problem) = app.post("/api/v1/notices", &json!({}), None).await;
        assert_eq!(status, 422);
        assert_eq!(
            error_fields(&problem),
            ["locations", "explanation", "category", "good_faith", "notifier.name", "notifier.email"]
        );
    })
    .await;
}

#[tokio::test]
async fn notices_about_child_sexual_abuse_material_may_be_anonymous() {
    each_backend(|app| async move {
        let mut body = notice("https://forum.example/t/9");
        body["notifier"] = serde_json::Value::Null;
        body["category"] = json!("STATEMENT_CATEGORY_PROTECTION_OF_MINORS");
        for keyword in ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"] {
            body["keywords"] = json!([keyword]);
            app.file(&body, None).await;
        }
        // No contact, so no confirmation to send.
        assert!(app.store().outbox_items("notice.received").await.unwrap().is_empty());
        // The exception is for CSAM only: the same anonymous notice about an adult is refused.
        body["keywords"] = json!(["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"]);
        body["category"] = json!("STATEMENT_CATEGORY_CYBER_VIOLENCE");
        let (status, problem) = app.post("/api/v1/notices", &body, None).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&problem), ["notifier.name", "notifier.email"]);
    })
    .await;
}

#[tokio::test]
async fn a_hash_only_notice_needs_no_location() {
    each_backend(|app| async move {
        let mut body = notice("https://unused.example");
        body["locations"] = serde_json::Value::Null;
        body["hashes"] =
            json!({"pdq": "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22", "pdq_quality": 100});
        app.file(&body, None).await;
        assert_eq!(app.store().count_notices().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn categories_and_legal_grounds_are_listed_with_labels() {
    each_backend(|app| async move {
        let (status, categories) = app.get("/api/v1/categories", None).await;
        assert_eq!(status, 200);
        let categories = categories.as_array().unwrap();
        assert_eq!(categories.len(), 16);
        let cyber = categories.iter().find(|c| c["id"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE").unwrap();
        assert_eq!(cyber["label"]["nl"], "Online geweld");
        assert!(
            cyber["keywords"].as_array().unwrap().iter().any(|k| k["id"] == "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE")
        );
        let (status, grounds) = app.get("/api/v1/legal-grounds", None).await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = grounds.as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
        for id in ["nl-sr-252", "nl-sr-254ba", "nl-sr-285d"] {
            assert!(ids.contains(&id), "{id}");
        }
    })
    .await;
}
