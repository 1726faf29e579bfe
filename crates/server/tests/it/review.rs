use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::support::{TestApp, each_backend, notice, parse_time, removal};

async fn case_ids(app: &TestApp, query: &str, key: &str) -> Vec<String> {
    let (status, body) = app.get(&format!("/api/v1/queue?{query}"), Some(key)).await;
    assert_eq!(status, 200, "{query}: {body}");
    body.as_array().unwrap().iter().map(|c| c["case_id"].as_str().unwrap().to_owned()).collect()
}

/// The queue's filters (source, category, priority, overdue, assigned to me, AI-generated) and
/// search by case id (whole or short), URL (normalised like intake), content id and hash (any case).
#[tokio::test]
async fn the_queue_filters_and_searches() {
    each_backend(|app| async move {
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        let flagger = app.key(Role::TrustedFlagger, "TF").await;
        let filed_a = app.file(&notice("https://social.example/a"), Some(&flagger)).await;
        let a = filed_a["case_id"].as_str().unwrap().to_owned();
        let a_notice = filed_a["id"].as_str().unwrap().to_owned();
        let mut b = notice("https://social.example/b");
        b["ai_generated"] = json!("yes");
        b["hashes"] = json!([{"sha256": "b".repeat(64)}]);
        let b = app.file(&b, Some(&flagger)).await["case_id"].as_str().unwrap().to_owned();
        let mut c = notice("https://other.example/c");
        c["locations"] = json!([{"content_id": "post-123"}]);
        app.file(&c, None).await;
        let c = app
            .queue(&reviewer)
            .await
            .iter()
            .map(|e| e["case_id"].as_str().unwrap().to_owned())
            .find(|id| *id != a && *id != b)
            .unwrap();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };

        assert_eq!(sorted(case_ids(&app, "", &reviewer).await), sorted(vec![a.clone(), b.clone(), c.clone()]));
        assert_eq!(case_ids(&app, "source=article_16", &reviewer).await, vec![c.clone()]);
        assert_eq!(
            sorted(case_ids(&app, "source=trusted_flagger", &reviewer).await),
            sorted(vec![a.clone(), b.clone()])
        );
        assert_eq!(case_ids(&app, "ai_generated=true", &reviewer).await, vec![b.clone()]);
        assert_eq!(sorted(case_ids(&app, "ai_generated=false", &reviewer).await), sorted(vec![a.clone(), c.clone()]));
        assert_eq!(case_ids(&app, "priority=2", &reviewer).await, vec![c.clone()]);
        assert_eq!(
            case_ids(&app, "category=STATEMENT_CATEGORY_CYBER_VIOLENCE&priority=1&ai_generated=true", &reviewer).await,
            vec![b.clone()]
        );
        assert_eq!(
            case_ids(&app, "category=STATEMENT_CATEGORY_SCAMS_AND_FRAUD", &reviewer).await,
            Vec::<String>::new()
        );
        // Search: the hash in upper case, the URL with a tracking parameter and a trailing slash,
        // the content id.
        assert_eq!(case_ids(&app, &format!("q={}", "B".repeat(64)), &reviewer).await, vec![b.clone()]);
        let url = "https%3A%2F%2FSocial.Example%2Fa%2F%3Futm_source%3Dshare";
        assert_eq!(case_ids(&app, &format!("q={url}"), &reviewer).await, vec![a.clone()]);
        assert_eq!(case_ids(&app, "q=post-123", &reviewer).await, vec![c.clone()]);
        assert_eq!(case_ids(&app, "q=nothing-like-this", &reviewer).await, Vec::<String>::new());
        // A case by its id, or by the short id the console shows (its last eight characters).
        assert_eq!(case_ids(&app, &format!("q={a}"), &reviewer).await, vec![a.clone()]);
        let short = staydown_server::staff::short_id(&c);
        assert_eq!(short.len(), 8);
        assert_eq!(case_ids(&app, &format!("q={short}"), &reviewer).await, vec![c.clone()]);
        // The number the notifier was given (the notice's id), whole or short, finds its case.
        assert_eq!(case_ids(&app, &format!("q={a_notice}"), &reviewer).await, vec![a.clone()]);
        let notice_short = staydown_server::staff::short_id(&a_notice);
        assert_eq!(case_ids(&app, &format!("q={notice_short}"), &reviewer).await, vec![a.clone()]);
        // On the console's queue page a whole id opens the case, decided or not.
        let admin = app.key(Role::Admin, "queue admin").await;
        crate::staff_pages::account(&app, &admin, "quinn", Role::Reviewer).await;
        let (cookie, _) = crate::staff_pages::sign_in(&app, "quinn").await;
        for id in [&a, &a_notice] {
            let (status, location, _) =
                crate::staff_pages::page(&app, &format!("/staff/queue?q={}", id.to_uppercase()), Some(&cookie)).await;
            assert_eq!((status, location), (303, format!("/staff/cases/{a}")));
        }
        // Overdue, by the server's clock: trusted-flagger cases are due in 4 h, public ones in 24 h.
        assert_eq!(case_ids(&app, "overdue=true", &reviewer).await, Vec::<String>::new());
        app.advance(time::Duration::hours(5));
        assert_eq!(sorted(case_ids(&app, "overdue=true", &reviewer).await), sorted(vec![a.clone(), b.clone()]));
        assert_eq!(case_ids(&app, "overdue=false", &reviewer).await, vec![c.clone()]);
        // Assigned to me.
        assert_eq!(case_ids(&app, "assigned=me", &reviewer).await, Vec::<String>::new());
        let (status, _) = app.post(&format!("/api/v1/cases/{c}/take"), &json!({}), Some(&reviewer)).await;
        assert_eq!(status, 200);
        assert_eq!(case_ids(&app, "assigned=me", &reviewer).await, vec![c.clone()]);
        let other = app.staff(Role::Reviewer, "other").await;
        assert_eq!(case_ids(&app, "assigned=me", &other).await, Vec::<String>::new());
        // Bad filters are field errors.
        let (status, body) = app.get("/api/v1/queue?source=pigeon&priority=12&assigned=bob", Some(&reviewer)).await;
        assert_eq!(status, 422, "{body}");
        let mut fields = crate::support::error_fields(&body);
        fields.sort();
        assert_eq!(fields, ["assigned", "priority", "source"]);
    })
    .await;
}

/// Taking a case records the assignee and the first pick-up time (time to pick-up is measured);
/// someone else's case is taken over only on purpose; the case moves to in review.
#[tokio::test]
async fn taking_a_case_records_who_and_when() {
    each_backend(|app| async move {
        let ria = app.staff(Role::Reviewer, "ria").await;
        let sam = app.staff(Role::SeniorReviewer, "sam").await;
        let auditor = app.staff(Role::Auditor, "aud").await;
        app.file(&notice("https://social.example/t"), None).await;
        let case_id = app.only_case(&ria).await;
        app.advance(time::Duration::minutes(95));
        let take = format!("/api/v1/cases/{case_id}/take");
        assert_eq!(app.post(&take, &json!({}), Some(&auditor)).await.0, 403, "auditors read only");
        let (status, taken) = app.post(&take, &json!({}), Some(&ria)).await;
        assert_eq!(status, 200, "{taken}");
        let secs = taken["time_to_pick_up_seconds"].as_i64().unwrap();
        assert!((95 * 60..95 * 60 + 30).contains(&secs), "{secs}");
        let ria_principal = taken["assignee"].as_str().unwrap().to_owned();
        assert!(ria_principal.starts_with("account:"));
        let (status, again) = app.post(&take, &json!({}), Some(&ria)).await;
        assert_eq!((status, &again["picked_up_at"]), (200, &taken["picked_up_at"]), "idempotent");

        let (status, body) = app.post(&take, &json!({}), Some(&sam)).await;
        assert_eq!(status, 409, "{body}");
        app.advance(time::Duration::minutes(10));
        let (status, over) = app.post(&take, &json!({"reassign": true}), Some(&sam)).await;
        assert_eq!(status, 200, "{over}");
        assert_ne!(over["assignee"], json!(ria_principal));
        assert_eq!(over["picked_up_at"], taken["picked_up_at"], "the first pick-up is kept");
        assert!(parse_time(&over["assigned_at"]) > parse_time(&taken["picked_up_at"]));
        let queue = app.queue(&ria).await;
        assert_eq!((queue[0]["state"].as_str(), &queue[0]["assignee"]), (Some("in_review"), &over["assignee"]));
        let audit = app.store().audit_for(&format!("case:{case_id}")).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "case.taken").count(), 2);
        // A decided case cannot be taken.
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&sam)).await;
        assert_eq!(status, 201);
        assert_eq!(app.post(&take, &json!({"reassign": true}), Some(&ria)).await.0, 409);
        assert_eq!(
            app.post("/api/v1/cases/00000000-0000-7000-8000-000000000000/take", &json!({}), Some(&ria)).await.0,
            404
        );
    })
    .await;
}

/// `GET /api/v1/appeals` lists open appeals oldest first; nobody who took or replaced a decision
/// anywhere in the chain under appeal may decide it — not only the last decider.
#[tokio::test]
async fn open_appeals_by_age_and_four_eyes_across_the_chain() {
    each_backend(|app| async move {
        let first = app.staff(Role::SeniorReviewer, "first").await;
        let second = app.staff(Role::SeniorReviewer, "second").await;
        let third = app.staff(Role::SeniorReviewer, "third").await;
        let reviewer = app.staff(Role::Reviewer, "plain").await;
        app.file(&notice("https://social.example/chain"), None).await;
        let case_id = app.only_case(&first).await;
        let (status, d1) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&first)).await;
        assert_eq!(status, 201, "{d1}");
        let appeal = |decision: &Value, reason: &str| {
            (
                format!("/api/v1/decisions/{}/appeals", decision["id"].as_str().unwrap()),
                json!({"token": decision["uploader_appeal_token"], "reason": reason}),
            )
        };
        let (path, body) = appeal(&d1, "This is my own photo, posted with consent.");
        let (status, a1) = app.post(&path, &body, None).await;
        assert_eq!(status, 201, "{a1}");
        app.advance(time::Duration::hours(3));
        let (status, list) = app.get("/api/v1/appeals", Some(&second)).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list[0]["id"], a1["id"]);
        assert_eq!((list[0]["age_hours"].as_i64(), list[0]["may_decide"].as_bool()), (Some(3), Some(true)));
        let (_, list) = app.get("/api/v1/appeals", Some(&first)).await;
        assert_eq!(list[0]["may_decide"], false, "the decider");
        let (_, list) = app.get("/api/v1/appeals", Some(&reviewer)).await;
        assert_eq!(list[0]["may_decide"], false, "not a senior reviewer");

        // The second senior reviewer replaces the decision (modified): D2.
        let modified =
            json!({"outcome": "modified", "reasons": "Removal stands, on a narrower ground.", "decision": removal()});
        let (status, m) = app
            .post(&format!("/api/v1/appeals/{}/decision", a1["id"].as_str().unwrap()), &modified, Some(&second))
            .await;
        assert_eq!(status, 200, "{m}");
        let d2 = json!({"id": m["new_decision_id"], "uploader_appeal_token": m["uploader_appeal_token"]});
        let (path, body) = appeal(&d2, "Still my own photo.");
        let (status, a2) = app.post(&path, &body, None).await;
        assert_eq!(status, 201, "{a2}");
        let (_, list) = app.get("/api/v1/appeals", Some(&first)).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "the first appeal is decided: {list}");
        assert_eq!(list[0]["id"], a2["id"]);
        assert_eq!(list[0]["may_decide"], false, "took D1, which D2 replaced");
        let upheld = json!({"outcome": "upheld", "reasons": "Compared again; the removal stands."});
        let path = format!("/api/v1/appeals/{}/decision", a2["id"].as_str().unwrap());
        for (who, key) in [("first", &first), ("second", &second)] {
            let (status, body) = app.post(&path, &upheld, Some(key)).await;
            assert_eq!(status, 403, "{who}: {body}");
            assert!(body["detail"].as_str().unwrap().contains("another senior reviewer"), "{body}");
        }
        let (_, list) = app.get("/api/v1/appeals", Some(&third)).await;
        assert_eq!(list[0]["may_decide"], true);
        let (status, body) = app.post(&path, &upheld, Some(&third)).await;
        assert_eq!(status, 200, "{body}");
        let (_, list) = app.get("/api/v1/appeals", Some(&third)).await;
        assert_eq!(list, json!([]));
        let auditor = app.key(Role::Auditor, "aud").await;
        assert_eq!(app.get("/api/v1/appeals", Some(&auditor)).await.0, 403);
    })
    .await;
}

/// A statement of reasons the Transparency Database refused goes back in the queue on an admin's
/// request (the API; `staydown sor requeue` calls the same store function), audited.
#[tokio::test]
async fn refused_statements_of_reasons_are_requeued() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        app.file(&notice("https://social.example/sor"), None).await;
        let case_id = app.only_case(&reviewer).await;
        let (status, _) = app.post(&format!("/api/v1/cases/{case_id}/decision"), &removal(), Some(&admin)).await;
        assert_eq!(status, 201);
        let (_, queued) = app.get("/api/v1/transparency/submissions", Some(&admin)).await;
        let puid = queued[0]["puid"].as_str().unwrap().to_owned();
        app.store()
            .mark_failed_permanently(&puid, "{\"errors\":{\"x\":[\"refused\"]}}", app.state.now())
            .await
            .unwrap();
        let (_, failed) = app.get("/api/v1/transparency/submissions?state=failed", Some(&admin)).await;
        assert_eq!(failed.as_array().unwrap().len(), 1);

        let path = "/api/v1/transparency/submissions/requeue";
        assert_eq!(app.post(path, &json!({"all_failed": true}), Some(&reviewer)).await.0, 403);
        let (status, body) = app.post(path, &json!({}), Some(&admin)).await;
        assert_eq!((status, crate::support::error_fields(&body)), (422, vec!["puids".to_owned()]));
        let (status, body) = app.post(path, &json!({"puids": [puid]}), Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["requeued"], json!([puid]));
        let (_, pending) = app.get("/api/v1/transparency/submissions?state=pending", Some(&admin)).await;
        assert_eq!(pending[0]["puid"], json!(puid));
        let (status, _) = app.post(path, &json!({"puids": [puid]}), Some(&admin)).await;
        assert_eq!(status, 409, "no longer failed");
        let (status, body) = app.post(path, &json!({"all_failed": true}), Some(&admin)).await;
        assert_eq!((status, body["requeued"].clone()), (200, json!([])));
    })
    .await;
}

/// DSA Art. 18: a reviewer marks a case; the law-enforcement contact gets the notification through
/// the outbox; it is recorded on the case, audited without free text, and counted.
#[tokio::test]
async fn an_art18_mark_notifies_the_law_enforcement_contact() {
    for backend in staydown_testkit::backends().await {
        let settings = staydown_server::Settings {
            public_url: "http://staydown.test".into(),
            law_enforcement_contact: Some("meldpunt@politie.example".into()),
            ..staydown_server::Settings::default()
        };
        let app = TestApp::start_with(backend, settings).await;
        let reviewer = app.staff(Role::Reviewer, "rev").await;
        app.file(&notice("https://social.example/threat"), None).await;
        let case_id = app.only_case(&reviewer).await;
        let path = format!("/api/v1/cases/{case_id}/art18");
        let auditor = app.key(Role::Auditor, "aud").await;
        assert_eq!(app.post(&path, &json!({}), Some(&auditor)).await.0, 403);
        let (status, body) =
            app.post(&path, &json!({"grounds": "bad vibes", "explanation": "x"}), Some(&reviewer)).await;
        assert_eq!(status, 422);
        let mut fields = crate::support::error_fields(&body);
        fields.sort();
        assert_eq!(fields, ["explanation", "grounds"]);
        let explanation = "The uploader threatens to send the images to the minor's school unless paid.";
        let (status, marked) =
            app.post(&path, &json!({"grounds": "threat_to_safety", "explanation": explanation}), Some(&reviewer)).await;
        assert_eq!(status, 201, "{marked}");
        app.deliver().await;
        let sent = app.sent.lock().unwrap().clone();
        let mail = sent.iter().find(|m| m.to == "meldpunt@politie.example").expect("sent to the contact");
        assert!(mail.subject.contains("Art. 18"), "{}", mail.subject);
        for needle in [case_id.as_str(), "https://social.example/threat", explanation, "threat to safety"] {
            assert!(mail.body.contains(needle), "{needle} missing from {}", mail.body);
        }
        let (_, listed) = app.get(&path, Some(&reviewer)).await;
        assert_eq!(
            (listed[0]["id"].clone(), listed[0]["grounds"].clone()),
            (marked["id"].clone(), json!("threat_to_safety"))
        );
        let audit = app.store().audit_for(&format!("case:{case_id}")).await.unwrap();
        let entry = audit.iter().find(|e| e.action == "case.art18_notified").expect("audited");
        assert!(!entry.detail.contains("school"), "no free text in the audit chain: {}", entry.detail);
        let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("art18_notifications_total"), "counted");
        let (_, _, page) = case_page(&app, &case_id).await;
        assert!(page.contains(&format!("action=\"/staff/cases/{case_id}/art18\"")), "the form is offered: {page}");
    }
    // Without a contact, marking is refused clearly and nothing is recorded.
    let app = TestApp::start(staydown_testkit::backends().await[0]).await;
    let reviewer = app.staff(Role::Reviewer, "rev").await;
    app.file(&notice("https://social.example/t2"), None).await;
    let case_id = app.only_case(&reviewer).await;
    let body = json!({"grounds": "threat_to_life", "explanation": "A credible threat to kill the person shown."});
    let (status, problem) = app.post(&format!("/api/v1/cases/{case_id}/art18"), &body, Some(&reviewer)).await;
    assert_eq!(status, 503, "{problem}");
    assert!(app.store().art18_notifications(None).await.unwrap().is_empty());
    // The case page says so where the form would be, instead of offering a form that cannot work.
    let (status, _, page) = case_page(&app, &case_id).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"art18-not-configured\"") && page.contains("112"), "{page}");
    assert!(!page.contains(&format!("action=\"/staff/cases/{case_id}/art18\"")), "{page}");
}

/// The case page as a signed-in reviewer sees it.
async fn case_page(app: &TestApp, case_id: &str) -> (u16, String, String) {
    let admin = app.key(Role::Admin, "page admin").await;
    crate::staff_pages::account(app, &admin, "rita", Role::Reviewer).await;
    let (cookie, _) = crate::staff_pages::sign_in(app, "rita").await;
    crate::staff_pages::page(app, &format!("/staff/cases/{case_id}"), Some(&cookie)).await
}
