use serde_json::json;
use staydown_domain::roles::Role;

use crate::support::{each_backend, removal};

const CANARIES: [&str; 3] = ["Zyxwv Canary", "zyxwv.canary@example.org", "uploader-canary-77"];

/// DSA Art. 24(5): what is queued for the EU database is the exact, valid record of the decision,
/// and no personal data reaches it — not the notifier's name or email, not the uploader's
/// reference, not when the notice or the reviewer's facts quote them.
#[tokio::test]
async fn decisions_queue_transparency_records_without_personal_data() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "tess").await;
        let platform = app.key(Role::Platform, "uploads").await;
        let admin = app.key(Role::Admin, "admin").await;
        let notice = json!({
            "locations": [{"url": "https://social.example/p/555"}],
            "explanation": "I am Zyxwv Canary (zyxwv.canary@example.org); this nude of me was posted by uploader-canary-77.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
            "notifier": {"name": "Zyxwv Canary", "email": "zyxwv.canary@example.org"},
            "hashes": {"sha256": "ef".repeat(32)},
            "good_faith": true
        });
        app.file(&notice, None).await;
        // The same image, uploaded again by a named uploader, is held in the victim's case.
        let (status, body) = app
            .post(
                "/api/v1/banks/victim-submitted/entries",
                &json!({"sha256": "ef".repeat(32), "note": "test"}),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (_, screened) = app
            .post(
                "/api/v1/screen",
                &json!({"sha256": "ef".repeat(32), "url": "https://social.example/p/555", "uploader": "uploader-canary-77"}),
                Some(&platform),
            )
            .await;
        assert_eq!(screened["verdict"], "hold", "{screened}");
        let case_id = app.only_case(&reviewer).await;
        let mut decision = removal();
        decision["facts"] =
            json!("Zyxwv Canary (ZYXWV.CANARY@EXAMPLE.ORG) reported that uploader-canary-77 posted it.");
        decision["explanation"] = json!("Deepfake of Zyxwv Canary published without consent.");
        let (status, decided) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &decision, Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");

        let queued = app.store().submission_queue(None, 10).await.unwrap();
        assert_eq!(queued.len(), 1);
        let record = &queued[0];
        assert_eq!(record.decision_id, decided["id"].as_str().unwrap());
        let lower = record.statement_json.to_lowercase();
        for canary in CANARIES {
            assert!(!lower.contains(&canary.to_lowercase()), "{canary} leaked: {lower}");
        }
        assert!(!lower.contains("canary"), "a personal string leaked: {lower}");
        let statement = record.statement().unwrap();
        staydown_domain::tdb::validate(&statement).expect("valid for the database");
        assert_eq!(statement.puid, record.decision_id);
        assert_eq!(statement.source_type.as_str(), "SOURCE_ARTICLE_16");
        // The re-upload was caught by a hash match, so detection was (partly) automated.
        assert_eq!(statement.automated_detection.as_str(), "Yes");

        // The same holds for everything else that leaves for another party: the statement of
        // reasons the platform and the uploader read, and the action webhooks' payloads.
        let decision_id = decided["id"].as_str().unwrap();
        let token = decided["uploader_appeal_token"].as_str().unwrap();
        let (_, for_platform) = app.get(&format!("/api/v1/decisions/{decision_id}/statement"), Some(&platform)).await;
        let (status, for_uploader) =
            app.get(&format!("/api/v1/decisions/{decision_id}/statement?token={token}"), None).await;
        assert_eq!(status, 200, "{for_uploader}");
        let webhooks: Vec<String> = app
            .store()
            .outbox_items("content.remove")
            .await
            .unwrap()
            .iter()
            .map(|i| i.payload.to_string())
            .collect();
        for (what, text) in [
            ("platform statement", for_platform.to_string()),
            ("uploader statement", for_uploader.to_string()),
            ("webhooks", webhooks.join("\n")),
        ] {
            let lower = text.to_lowercase();
            if what != "webhooks" {
                assert!(lower.contains("deepfake of"), "{what} lost the explanation: {text}");
            }
            for canary in CANARIES {
                assert!(!lower.contains(&canary.to_lowercase()), "{canary} leaked into the {what}: {text}");
            }
        }
        // Staff still see what the reviewer wrote.
        let (_, internal) = app.get(&format!("/api/v1/decisions/{decision_id}"), Some(&reviewer)).await;
        assert!(internal.to_string().contains("Zyxwv Canary"), "{internal}");
        // The Dutch text names the redress bodies in Dutch, not in the English configuration text.
        let nl = for_platform["text"]["nl"].as_str().unwrap();
        assert!(nl.contains("rechtbank") && nl.contains("geschillenbeslechting"), "{nl}");
        assert!(!nl.contains("dispute settlement body") && !nl.contains("competent court"), "English in Dutch: {nl}");
        // Dates read as dates everywhere (they were `[2026,324]`, time's own serde form).
        let today = app.state.now().date().to_string();
        for (what, text) in [("decision", internal.to_string()), ("statement", for_platform.to_string())] {
            assert!(text.contains(&format!("\"start_date\":\"{today}\"")), "{what}: {text}");
            assert!(!text.contains(&format!("[{},", app.state.now().year())), "{what} has a [year,ordinal] date: {text}");
        }
    })
    .await;
}

/// An order alone (Art. 17(5)) and a decision to take no action are not sent to the database.
#[tokio::test]
async fn orders_and_no_action_decisions_are_not_queued() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "omar").await;
        let authority = app.key(Role::Authority, "ATKM").await;
        let order = json!({
            "locations": [{"content_id": "img-1"}],
            "explanation": "Aanwijzing: verwijder dit materiaal.",
            "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "keywords": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            "good_faith": true,
            "order": {"kind": "atkm_csam", "reference": "ATKM-1", "legal_basis": "Wet bestuursrechtelijke aanpak online kinderpornografisch materiaal"}
        });
        app.file(&order, Some(&authority)).await;
        let case_id = app.only_case(&reviewer).await;
        let mut decision = removal();
        decision["legal_ground"] = json!("nl-sr-252");
        let (status, body) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &decision, Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        app.file(&crate::support::notice("https://social.example/p/556"), None).await;
        let case_id = app.only_case(&reviewer).await;
        let (status, body) = app
            .post(&format!("/api/v1/cases/{case_id}/decision"), &json!({"explanation": "Not illegal."}), Some(&reviewer))
            .await;
        assert_eq!(status, 201, "{body}");
        assert!(app.store().submission_queue(None, 10).await.unwrap().is_empty());
    })
    .await;
}
