use serde_json::Value;
use staydown_domain::roles::Role;
use staydown_domain::tdb::{
    AutomatedDecision, Category, ContentType, Country, DecisionGround, DecisionVisibility, Keyword, SourceType,
    Statement, YesNo,
};
use staydown_server::tdb::{LEASE, PassReport, SubmitError, TdbClient, TdbSettings, submit_due};
use staydown_store::SubmissionState;
use time::macros::date;

use crate::support::{TestApp, each_backend};
use crate::tdb_standin::{StandIn, TOKEN};

/// A valid statement of an NCII removal with the given puid.
pub fn statement(puid: &str) -> Statement {
    Statement {
        puid: puid.into(),
        decision_visibility: Some(vec![DecisionVisibility::ContentRemoved]),
        decision_visibility_other: None,
        decision_monetary: None,
        decision_monetary_other: None,
        decision_provision: None,
        decision_account: None,
        account_type: None,
        decision_ground: DecisionGround::IllegalContent,
        decision_ground_reference_url: None,
        illegal_content_legal_ground: Some("Art. 254ba Wetboek van Strafrecht (NL)".into()),
        illegal_content_explanation: Some("Sexual imagery published without the consent of the person shown.".into()),
        incompatible_content_ground: None,
        incompatible_content_explanation: None,
        incompatible_content_illegal: None,
        content_type: vec![ContentType::Image],
        content_type_other: None,
        category: Category::CyberViolence,
        category_addition: None,
        category_specification: Some(vec![Keyword::NonConsensualImageSharing]),
        category_specification_other: None,
        territorial_scope: Some(Country::EEA.to_vec()),
        content_language: None,
        content_date: date!(2026 - 11 - 01),
        application_date: date!(2026 - 11 - 23),
        end_date_visibility_restriction: None,
        end_date_monetary_restriction: None,
        end_date_service_restriction: None,
        end_date_account_restriction: None,
        decision_facts: "Reported under Art. 16 and confirmed by a reviewer.".into(),
        source_type: SourceType::Article16,
        source_identity: None,
        automated_detection: YesNo::No,
        automated_decision: AutomatedDecision::NotAutomated,
        content_id: None,
    }
}

fn client(standin: &StandIn, token: &str) -> TdbClient {
    TdbClient::new(&TdbSettings { endpoint: standin.base.clone(), token: token.into(), batch_size: 100 }).unwrap()
}

async fn enqueue(app: &TestApp, n: usize) -> Vec<String> {
    let mut puids = Vec::new();
    for i in 0..n {
        let puid = format!("sd-{i:04}");
        app.store().enqueue_statement(&format!("decision-{i}"), &statement(&puid), app.state.now()).await.unwrap();
        puids.push(puid);
    }
    puids
}

async fn states(app: &TestApp) -> (usize, usize, usize) {
    let count = |s| async move { app.store().submission_queue(Some(s), 1000).await.unwrap().len() };
    (
        count(SubmissionState::Pending).await,
        count(SubmissionState::Submitted).await,
        count(SubmissionState::Failed).await,
    )
}

/// Every statement was sent exactly once, and the stand-in holds them all.
fn sent_exactly_once(standin: &StandIn, puids: &[String]) {
    let sends = standin.sends();
    for puid in puids {
        assert_eq!(sends.get(puid), Some(&1), "{puid} sent {:?} times", sends.get(puid));
    }
    assert_eq!(standin.stored(), puids.len());
}

#[tokio::test]
async fn tdb_sends_batches_of_at_most_100_and_records_the_uuids() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let puids = enqueue(&app, 250).await;
        let report = submit_due(&app.state, &client(&standin, TOKEN)).await.unwrap();
        assert_eq!(report, PassReport { submitted: 250, failed: 0, deferred: 0, requests: 3 });
        assert_eq!(standin.batch_sizes(), vec![100, 100, 50]);
        sent_exactly_once(&standin, &puids);
        assert_eq!(states(&app).await, (0, 250, 0));
        let first = app.store().queued_statement("sd-0000").await.unwrap().unwrap();
        let uuid = standin.with(|i| i.stored["sd-0000"].0.clone());
        assert_eq!(first.tdb_uuid.as_deref(), Some(uuid.as_str()));
        // What the TDB stored is what we sent (already normalised, so nothing changed on the way).
        let sent: Value = serde_json::from_str(&first.statement_json).unwrap();
        assert_eq!(standin.with(|i| i.stored["sd-0000"].1.clone()), sent);
        // Nothing left: another pass sends nothing.
        assert_eq!(submit_due(&app.state, &client(&standin, TOKEN)).await.unwrap(), PassReport::default());
        let audit = app.store().audit_for("decision:decision-0").await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["tdb.statement.queued", "tdb.statement.submitted"]);
    })
    .await;
}

#[tokio::test]
async fn tdb_retries_after_500_and_429_with_backoff() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let puids = enqueue(&app, 3).await;
        let tdb = client(&standin, TOKEN);
        standin.with(|i| i.fail_next.push_back(500));
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap().deferred, 3);
        assert_eq!(standin.stored(), 0);
        let pending = app.store().submission_queue(Some(SubmissionState::Pending), 10).await.unwrap();
        assert!(pending.iter().all(|s| s.last_error.as_deref().is_some_and(|e| e.starts_with("HTTP 500"))));
        // Not due before the back-off (30 s) has passed.
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap(), PassReport::default());
        app.advance(time::Duration::seconds(31));
        // The next attempt checks existing-puid first (a 500 may come after a commit), then meets
        // a rate limit.
        standin.with(|i| i.fail_next.push_back(429));
        let report = submit_due(&app.state, &tdb).await.unwrap();
        assert_eq!(report.deferred, 3, "{report:?}");
        assert_eq!(standin.with(|i| i.lookups.len()), 3);
        // The second back-off is 60 s.
        app.advance(time::Duration::seconds(31));
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap(), PassReport::default());
        app.advance(time::Duration::seconds(30));
        let report = submit_due(&app.state, &tdb).await.unwrap();
        assert_eq!(report.submitted, 3, "{report:?}");
        assert_eq!(standin.stored(), 3);
        assert_eq!(states(&app).await, (0, 3, 0));
        let s = app.store().queued_statement(&puids[0]).await.unwrap().unwrap();
        assert_eq!((s.attempts, s.last_error), (3, None));
    })
    .await;
}

#[tokio::test]
async fn tdb_refuses_one_statement_and_stores_the_rest_of_its_batch() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let mut puids = enqueue(&app, 2).await;
        // Queued without validation (the caller's job), so the TDB refuses it.
        let bad = Statement { decision_facts: String::new(), ..statement("sd-bad") };
        app.store().enqueue_statement("decision-bad", &bad, app.state.now()).await.unwrap();
        puids.extend(enqueue_more(&app, 2).await);

        let report = submit_due(&app.state, &client(&standin, TOKEN)).await.unwrap();
        assert_eq!(report, PassReport { submitted: 4, failed: 1, deferred: 0, requests: 2 });
        assert_eq!(standin.batch_sizes(), vec![5, 4], "the batch is resent without the refused statement");
        assert_eq!(standin.with(|i| i.stored.keys().cloned().collect::<Vec<_>>()), puids);
        let failed = app.store().submission_queue(Some(SubmissionState::Failed), 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].puid, "sd-bad");
        let error: Value = serde_json::from_str(failed[0].last_error.as_deref().unwrap()).unwrap();
        assert_eq!(error, serde_json::json!({"decision_facts": ["The decision facts field is required."]}));

        // The failure view, for admins and auditors only.
        let admin = app.key(Role::Admin, "admin").await;
        let (status, body) = app.get("/api/v1/transparency/submissions?state=failed", Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().unwrap().len(), 1);
        assert_eq!(body[0]["puid"], "sd-bad");
        assert_eq!(body[0]["state"], "failed");
        assert!(body[0]["last_error"].as_str().unwrap().contains("decision facts field is required"));
        let auditor = app.key(Role::Auditor, "auditor").await;
        let (status, body) = app.get("/api/v1/transparency/submissions", Some(&auditor)).await;
        assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(5)));
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        assert_eq!(app.get("/api/v1/transparency/submissions", Some(&reviewer)).await.0, 403);
        assert_eq!(app.get("/api/v1/transparency/submissions", None).await.0, 401);
        assert_eq!(app.get("/api/v1/transparency/submissions?state=lost", Some(&admin)).await.0, 422);
    })
    .await;
}

async fn enqueue_more(app: &TestApp, n: usize) -> Vec<String> {
    let mut puids = Vec::new();
    for i in 0..n {
        let puid = format!("sd-more-{i}");
        app.store().enqueue_statement(&format!("decision-more-{i}"), &statement(&puid), app.state.now()).await.unwrap();
        puids.push(puid);
    }
    puids
}

#[tokio::test]
async fn tdb_answer_lost_after_commit_is_not_sent_twice() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let puids = enqueue(&app, 4).await;
        let tdb = client(&standin, TOKEN);
        standin.with(|i| i.lose_next_answer = true);
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap().deferred, 4);
        assert_eq!(standin.stored(), 4, "the stand-in stored them, we never heard");
        app.advance(time::Duration::seconds(31));
        let report = submit_due(&app.state, &tdb).await.unwrap();
        assert_eq!(report, PassReport { submitted: 4, failed: 0, deferred: 0, requests: 0 });
        assert_eq!(standin.with(|i| i.lookups.len()), 4);
        sent_exactly_once(&standin, &puids);
        assert_eq!(states(&app).await, (0, 4, 0));
    })
    .await;
}

#[tokio::test]
async fn tdb_duplicate_puid_is_confirmed_with_existing_puid_and_the_rest_resent() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let puids = enqueue(&app, 3).await;
        // The TDB already holds sd-0001 (e.g. sent by an earlier installation on the same database).
        standin.with(|i| i.stored.insert("sd-0001".into(), ("uuid-earlier".into(), Value::Null)));
        let report = submit_due(&app.state, &client(&standin, TOKEN)).await.unwrap();
        assert_eq!(report, PassReport { submitted: 3, failed: 0, deferred: 0, requests: 2 });
        assert_eq!(standin.with(|i| i.lookups.clone()), ["sd-0001"]);
        assert_eq!(standin.batch_sizes(), vec![3, 2]);
        assert_eq!(states(&app).await, (0, 3, 0));
        assert_eq!(standin.stored(), puids.len());
    })
    .await;
}

#[tokio::test]
async fn tdb_restart_in_the_middle_stores_every_statement_exactly_once() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        let puids = enqueue(&app, 250).await;
        // The second batch is stored, then the process dies before it hears the answer.
        let stored_second = std::sync::Arc::new(tokio::sync::Notify::new());
        standin.with(|i| i.hang_on_post = Some((2, stored_second.clone())));
        let worker = {
            let (state, tdb) = (app.state.clone(), client(&standin, TOKEN));
            tokio::spawn(async move { submit_due(&state, &tdb).await })
        };
        stored_second.notified().await;
        worker.abort();
        assert!(worker.await.unwrap_err().is_cancelled());
        assert_eq!(standin.stored(), 200);
        let (pending, submitted, _) = states(&app).await;
        assert_eq!((pending, submitted), (150, 100), "batch 2 is stored by the TDB but not marked, batch 3 unsent");

        // A restart: a new client; batch 2's claims are still leased, so nothing is taken early.
        let tdb = client(&standin, TOKEN);
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap().submitted, 50);
        app.advance(time::Duration::try_from(LEASE).unwrap() + time::Duration::seconds(1));
        let report = submit_due(&app.state, &tdb).await.unwrap();
        assert_eq!(report, PassReport { submitted: 100, failed: 0, deferred: 0, requests: 0 });
        sent_exactly_once(&standin, &puids);
        assert_eq!(states(&app).await, (0, 250, 0));
    })
    .await;
}

#[tokio::test]
async fn tdb_wrong_token_stops_the_pass_and_keeps_everything_queued() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        enqueue(&app, 2).await;
        let err = submit_due(&app.state, &client(&standin, "1|wrong")).await.unwrap_err();
        assert!(matches!(err, SubmitError::Unauthorized { status: 401, .. }), "{err}");
        assert_eq!(standin.stored(), 0);
        let pending = app.store().submission_queue(Some(SubmissionState::Pending), 10).await.unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending[0].last_error.as_deref().unwrap().starts_with("HTTP 401"));
    })
    .await;
}

#[tokio::test]
async fn tdb_export_pages_through_the_queue_in_order() {
    each_backend(|app| async move {
        let puids = enqueue(&app, 5).await;
        let since = app.state.now() - time::Duration::hours(1);
        let mut cursor = None;
        let mut pages = Vec::new();
        loop {
            let (page, next) = app.store().statements_since(since, None, cursor.as_ref(), 2).await.unwrap();
            pages.push(page.iter().map(|s| s.puid.clone()).collect::<Vec<_>>());
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(pages.concat(), puids);
        assert!(pages.iter().all(|p| p.len() <= 2));
        let later = app.state.now() + time::Duration::seconds(1);
        assert!(app.store().statements_since(later, None, None, 10).await.unwrap().0.is_empty());
        assert!(app.store().statements_since(since, Some(since), None, 10).await.unwrap().0.is_empty());
    })
    .await;
}

#[tokio::test]
async fn tdb_client_speaks_tls() {
    each_backend(|app| async move {
        // A plain-HTTP server behind an https:// URL: the client must attempt a TLS handshake (so TLS
        // is compiled in) and fail it, and the statement stays queued for later.
        let standin = StandIn::start().await;
        enqueue(&app, 1).await;
        let https = standin.base.replace("http://", "https://");
        let tdb = TdbClient::new(&TdbSettings { endpoint: https, token: TOKEN.into(), batch_size: 100 }).unwrap();
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap().deferred, 1);
        let s = app.store().queued_statement("sd-0000").await.unwrap().unwrap();
        let error = s.last_error.unwrap();
        assert!(error.starts_with("transport: "), "{error}");
        assert!(!error.contains("scheme"), "TLS support missing: {error}");
        assert!(error.contains("InvalidContentType"), "rustls read an HTTP answer as a TLS record: {error}");
    })
    .await;
}

#[tokio::test]
async fn tdb_a_422_that_names_nothing_in_the_batch_is_retried_later_not_resent_in_a_loop() {
    each_backend(|app| async move {
        let standin = StandIn::start().await;
        enqueue(&app, 1).await;
        let tdb = client(&standin, TOKEN);
        let odd_index = serde_json::json!({"errors": {"statement_7": {"puid": ["The puid format is invalid."]}}});
        standin.with(|i| i.canned_next = Some((422, odd_index)));
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap(), PassReport { deferred: 1, requests: 1, ..Default::default() });
        app.advance(time::Duration::seconds(31));
        let unknown_duplicate = serde_json::json!({"message": "The platform identifier(s) are not all unique within this call.",
            "errors": {"puid": ["…"], "existing_puids": ["someone-else"]}});
        standin.with(|i| i.canned_next = Some((422, unknown_duplicate)));
        let report = submit_due(&app.state, &tdb).await.unwrap();
        assert_eq!((report.deferred, report.requests, report.failed), (1, 1, 0));
        app.advance(time::Duration::seconds(61));
        assert_eq!(submit_due(&app.state, &tdb).await.unwrap().submitted, 1);
    })
    .await;
}
