use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::support::{Receiver, TestApp, each_backend, error_fields, notice, removal, settings_with_webhook};

/// Each element of DSA Art. 17(3) by name, and no notifier personal data.
fn assert_complete_statement(statement: &Value, ground_element: &str) {
    for element in ["measure", "facts_and_circumstances", "automated_means", ground_element, "redress"] {
        assert!(
            statement.get(element).is_some_and(|v| !v.is_null()),
            "Art. 17(3) element {element} missing: {statement}"
        );
    }
    assert!(statement["measure"]["territorial_scope"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(statement["automated_means"].get("automated_detection").is_some());
    assert!(statement["automated_means"].get("automated_decision").is_some());
    assert!(statement[ground_element]["reference"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(statement[ground_element]["explanation"].as_str().is_some_and(|r| !r.is_empty()));
    for redress in ["internal_complaint", "out_of_court_settlement", "court"] {
        assert!(statement["redress"].get(redress).is_some(), "redress option {redress} missing");
    }
    let text = statement.to_string();
    for personal in ["Test Person", "test.person@example.org"] {
        assert!(!text.contains(personal), "the statement leaks {personal}");
    }
    for language in ["nl", "en"] {
        assert!(statement["text"][language].as_str().is_some_and(|t| t.len() > 100), "no {language} text");
    }
}

#[tokio::test]
async fn notice_decision_statement_webhook_appeal_reversal_restore() {
    let receiver = Receiver::start().await;
    for backend in staydown_testkit::backends().await {
        *receiver.attempts.lock().unwrap() = Vec::new();
        *receiver.applied.lock().unwrap() = Vec::new();
        let app = TestApp::start_with(backend, settings_with_webhook(&receiver)).await;
        let filed = app.file(&notice("https://social.example/p/1"), None).await;
        let tracking_token = filed["tracking_token"].as_str().unwrap().to_owned();
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        let senior = app.staff(Role::SeniorReviewer, "sam").await;
        let platform = app.key(Role::Platform, "platform").await;
        let case_id = app.only_case(&reviewer).await;

        let (status, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
        assert_eq!(status, 200, "{case}");
        assert_eq!(case["notices"][0]["locations"][0]["url"], "https://social.example/p/1");
        assert!(!case.to_string().contains("test.person@example.org"), "the case page shows no contact details");

        let (status, decided) =
            app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let decision_id = decided["id"].as_str().unwrap().to_owned();
        let uploader_token = decided["uploader_appeal_token"].as_str().unwrap().to_owned();
        assert_complete_statement(&decided["statement"], "legal_ground");
        assert_eq!(app.queue(&reviewer).await.len(), 0, "a decided case leaves the queue");

        // A second decision on the same case is refused: appeal instead.
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 409);

        // The platform fetches the statement to relay it; the uploader can read it with their token.
        let statement_path = format!("/api/v1/decisions/{decision_id}/statement");
        let (status, statement) = app.get(&statement_path, Some(&platform)).await;
        assert_eq!(status, 200);
        assert_complete_statement(&statement, "legal_ground");
        assert!(statement["text"]["en"].as_str().unwrap().contains("art. 254ba Wetboek van Strafrecht"));
        let (status, _) = app.get(&format!("{statement_path}?token={uploader_token}"), None).await;
        assert_eq!(status, 200);
        let (status, _) = app.get(&format!("{statement_path}?token={tracking_token}"), None).await;
        assert_eq!(status, 404, "the notifier's token does not open the uploader's statement");
        let (status, _) = app.get(&statement_path, None).await;
        assert_eq!(status, 401);

        // Delivery: the removal webhook (signed) and the decision notice to the notifier (Art. 16(5)).
        app.deliver().await;
        assert_eq!(receiver.applied_events(), ["content.remove"]);
        let hook = receiver.applied.lock().unwrap()[0].clone();
        assert!(hook.signature_ok);
        assert_eq!(hook.body["data"]["decision_id"], decision_id.as_str());
        assert_eq!(hook.body["data"]["locations"][0]["url"], "https://social.example/p/1");
        assert_eq!(hook.body["data"]["uploader_appeal_token"], uploader_token.as_str());
        let mails = app.sent.lock().unwrap().clone();
        let decided_mail = mails.iter().find(|m| m.subject.contains("Decision")).expect("decision notice sent");
        assert!(decided_mail.body.contains("We took action"));
        assert!(decided_mail.body.contains("not detected by automated means"));
        assert!(decided_mail.body.contains("out-of-court"));
        let (_, view) =
            app.get(&format!("/api/v1/notices/{}?token={tracking_token}", filed["id"].as_str().unwrap()), None).await;
        assert_eq!(view["status"], "decided");
        assert_eq!(view["decision"]["id"], decision_id.as_str());
        assert!(view["decision"]["text"]["nl"].as_str().unwrap().contains("maatregelen"));

        // The uploader appeals; the reviewer who decided may not decide it; a senior reviewer reverses.
        let appeal_path = format!("/api/v1/decisions/{decision_id}/appeals");
        let (status, body) =
            app.post(&appeal_path, &json!({"token": "wrong", "reason": "It is me and I consented."}), None).await;
        assert_eq!(status, 404, "{body}");
        let (status, appeal) = app
            .post(&appeal_path, &json!({"token": uploader_token, "reason": "It is me and I consented."}), None)
            .await;
        assert_eq!(status, 201, "{appeal}");
        assert_eq!(appeal["appellant"], "uploader");
        let appeal_id = appeal["id"].as_str().unwrap().to_owned();
        let (_, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
        assert_eq!(case["state"], "appealed");

        let decide_appeal = format!("/api/v1/appeals/{appeal_id}/decision");
        let reversal =
            json!({"outcome": "reversed", "reasons": "The uploader showed the person consented to publication."});
        let (status, _) = app.post(&decide_appeal, &reversal, Some(&reviewer)).await;
        assert_eq!(status, 403, "a plain reviewer does not decide appeals");
        let (status, body) = app.post(&decide_appeal, &json!({"outcome": "reversed"}), Some(&senior)).await;
        assert_eq!((status, error_fields(&body)), (422, vec!["reasons".to_owned()]));
        let (status, outcome) = app.post(&decide_appeal, &reversal, Some(&senior)).await;
        assert_eq!(status, 200, "{outcome}");
        let (status, _) = app.post(&decide_appeal, &reversal, Some(&senior)).await;
        assert_eq!(status, 409, "an appeal is decided once");

        app.deliver().await;
        assert_eq!(receiver.applied_events(), ["content.remove", "content.restore", "appeal.decided"]);
        let (_, statement) = app.get(&statement_path, Some(&platform)).await;
        assert_eq!(statement["status"], "reversed");
        // The notifier's tracking view no longer says the content was removed, as JSON and as a page.
        let tracking = format!("/api/v1/notices/{}?token={tracking_token}", filed["id"].as_str().unwrap());
        let (_, view) = app.get(&tracking, None).await;
        assert_eq!(
            (view["decision"]["status"].as_str(), view["decision"]["restricts"].as_bool()),
            (Some("reversed"), Some(false))
        );
        let text = view["decision"]["text"]["en"].as_str().unwrap();
        assert!(text.contains("reversed") && !text.contains("removed"), "{text}");
        let page = app
            .client
            .get(format!("{}{tracking}", app.base))
            .header("accept", "text/html")
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("was reversed after an internal complaint"), "{page}");
        // The language switch stays on the tracking page (it once lost the /api/v1 prefix: a 404).
        let switch = format!("href=\"/track/{}?", filed["id"].as_str().unwrap());
        assert!(page.contains(&switch) && page.contains("lang=nl"), "{page}");
        assert!(!page.contains("content was removed") && !page.contains("removed the content"), "{page}");
        let (_, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
        assert_eq!(case["state"], "redecided");
        assert_eq!(case["appeals"][0]["outcome"], "reversed");
        assert!(app.sent.lock().unwrap().iter().any(|m| m.subject.contains("Outcome of the complaint")));

        // Every step is in the audit chain, and the chain verifies.
        let report = app.store().verify_audit().await.unwrap();
        assert!(report.broken.is_none());
        let actions: Vec<String> = app
            .store()
            .audit_for(&format!("decision:{decision_id}"))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["decision.made", "tdb.statement.queued"]);
        let actions: Vec<String> = app
            .store()
            .audit_for(&format!("appeal:{appeal_id}"))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["appeal.filed", "appeal.decided"]);
    }
}

#[tokio::test]
async fn the_decider_cannot_decide_the_appeal_and_the_window_is_six_months() {
    each_backend(|app| async move {
        let filed = app.file(&notice("https://social.example/p/2"), None).await;
        let tracking = filed["tracking_token"].as_str().unwrap().to_owned();
        let alice = app.staff(Role::SeniorReviewer, "alice").await;
        let bob = app.staff(Role::SeniorReviewer, "bob").await;
        let case_id = app.only_case(&alice).await;
        let (status, decided) = app
            .post(
                &format!("/api/v1/cases/{case_id}/decision"),
                &json!({"explanation": "The image does not show the person who reported it."}),
                Some(&alice),
            )
            .await;
        assert_eq!(status, 201, "{decided}");
        assert_eq!(decided["restricts"], false);
        assert!(decided["statement"].is_null(), "no restriction, no statement of reasons");
        let decision_id = decided["id"].as_str().unwrap();

        // The notifier complains about the decision not to act (Art. 20 covers that too).
        let (status, appeal) = app
            .post(
                &format!("/api/v1/decisions/{decision_id}/appeals"),
                &json!({"token": tracking, "reason": "It is me; I can prove it."}),
                None,
            )
            .await;
        assert_eq!(status, 201, "{appeal}");
        assert_eq!(appeal["appellant"], "notifier");
        let path = format!("/api/v1/appeals/{}/decision", appeal["id"].as_str().unwrap());
        let upheld = json!({"outcome": "upheld", "reasons": "We compared again; it is not the same person."});
        let (status, body) = app.post(&path, &upheld, Some(&alice)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("another senior reviewer"));
        let (status, body) = app.post(&path, &upheld, Some(&bob)).await;
        assert_eq!(status, 200, "{body}");

        // The same complaint again after it was upheld needs new facts; then one open appeal at a time.
        let appeals = format!("/api/v1/decisions/{decision_id}/appeals");
        let (status, body) = app.post(&appeals, &json!({"token": tracking, "reason": "Again."}), None).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "new_facts", "{body}");
        let again =
            json!({"token": tracking, "reason": "Again.", "new_facts": "I now have the original photo's file."});
        let (status, body) = app.post(&appeals, &again, None).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = app.post(&appeals, &again, None).await;
        assert_eq!(status, 409, "a second open appeal by the same party: {body}");

        // Six months and a day later the window has closed.
        app.advance(time::Duration::days(184));
        let (status, body) = app
            .post(
                &format!("/api/v1/decisions/{decision_id}/appeals"),
                &json!({"token": tracking, "reason": "Again."}),
                None,
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with("/appeal-window-closed"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn decisions_are_validated_like_the_transparency_database() {
    each_backend(|app| async move {
        app.file(&notice("https://social.example/p/3"), None).await;
        let reviewer = app.staff(Role::Reviewer, "val").await;
        let case_id = app.only_case(&reviewer).await;
        let mut bad = removal();
        bad["ground"] = json!("incompatible");
        bad["facts"] = json!("x".repeat(5001));
        bad["territorial_scope"] = json!(["EL"]);
        bad["visibility"] = json!(["removed", "other"]);
        let (status, body) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &bad, Some(&reviewer)).await;
        assert_eq!(status, 422);
        let mut fields = error_fields(&body);
        fields.sort();
        assert_eq!(fields, ["facts", "legal_ground", "terms_clause", "territorial_scope[0]", "visibility_other"]);
        assert_eq!(app.queue(&reviewer).await.len(), 1, "nothing was decided");

        // A terms-and-conditions decision with an account suspension for 30 days.
        let tc = json!({
            "visibility": ["disabled"],
            "account": "suspended",
            "end_dates": {"account": "2038-01-01"},
            "ground": "incompatible",
            "terms_clause": "Community rules 4.2: intimate imagery",
            "terms_url": "https://social.example/rules#4.2",
            "explanation": "Sharing intimate images of others is against our rules.",
            "territorial_scope": ["NL", "BE"],
            "content_date": "2026-02-01",
            "facts": "Reported by a notice; the account shared several such images.",
            "content_type": ["image"]
        });
        let (status, body) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &tc, Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        let s = &body["statement"];
        assert!(s.get("legal_ground").is_none());
        assert_eq!(s["contractual_ground"]["reference"], "Community rules 4.2: intimate imagery");
        assert_eq!(s["measure"]["territorial_scope"], json!(["BE", "NL"]));
        assert_eq!(s["measure"]["restrictions"]["account"], "suspended");
    })
    .await;
}

#[tokio::test]
async fn a_modified_appeal_replaces_the_decision_with_a_new_statement() {
    let receiver = Receiver::start().await;
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start_with(backend, settings_with_webhook(&receiver)).await;
    app.file(&notice("https://social.example/p/4"), None).await;
    let reviewer = app.staff(Role::Reviewer, "mo").await;
    let senior = app.staff(Role::SeniorReviewer, "sue").await;
    let case_id = app.only_case(&reviewer).await;
    let mut first = removal();
    first["account"] = json!("terminated");
    let (_, decided) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &first, Some(&reviewer)).await;
    let token = decided["uploader_appeal_token"].as_str().unwrap();
    let decision_id = decided["id"].as_str().unwrap();
    let (_, appeal) = app
        .post(
            &format!("/api/v1/decisions/{decision_id}/appeals"),
            &json!({"token": token, "reason": "Terminating my account is out of proportion."}),
            None,
        )
        .await;
    let path = format!("/api/v1/appeals/{}/decision", appeal["id"].as_str().unwrap());
    let mut replacement = removal();
    replacement["visibility"] = json!(["removed", "other"]);
    let (status, body) = app
        .post(
            &path,
            &json!({"outcome": "modified", "reasons": "Removal stands; no account measure.", "decision": replacement}),
            Some(&senior),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(error_fields(&body), ["decision.visibility_other"]);
    let (status, body) = app
        .post(
            &path,
            &json!({"outcome": "modified", "reasons": "Removal stands; no account measure.", "decision": removal()}),
            Some(&senior),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let new_id = body["new_decision_id"].as_str().unwrap();
    assert!(body["uploader_appeal_token"].is_string());
    let (_, old) = app.get(&format!("/api/v1/decisions/{decision_id}"), Some(&reviewer)).await;
    assert_eq!(old["status"], "replaced");
    let (_, new) = app.get(&format!("/api/v1/decisions/{new_id}"), Some(&reviewer)).await;
    assert_eq!((new["status"].as_str(), new["replaces"].as_str()), (Some("in_force"), Some(decision_id)));
    assert!(new["decision"]["restrictions"]["account"].is_null());
    app.deliver().await;
    let mut events = receiver.applied_events();
    events.sort();
    assert_eq!(
        events,
        [
            "account.reinstate",
            "account.suspend",
            "appeal.decided",
            "content.remove",
            "content.remove",
            "content.restore"
        ]
    );
}
