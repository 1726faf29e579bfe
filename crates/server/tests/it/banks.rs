use std::time::Duration;

use serde_json::json;
use staydown_domain::policy::Policy;
use staydown_domain::roles::Role;
use staydown_server::screening::{Query, spawn_bank_sync};
use staydown_server::{AppState, Mailer, Settings, system_clock};
use staydown_store::Store;
use staydown_testkit::Backend;

use crate::support::{TestApp, each_backend, error_fields, notice};

#[tokio::test]
async fn admins_manage_banks_and_nobody_else_does() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let (status, banks) = app.get("/api/v1/banks", Some(&admin)).await;
        assert_eq!(status, 200);
        let seeded: Vec<(&str, &str, u64, &str)> = banks
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let s = |k: &str| b[k].as_str().unwrap();
                (s("name"), s("action"), b["threshold"].as_u64().unwrap(), s("provenance"))
            })
            .collect();
        assert_eq!(
            seeded,
            [("confirmed", "block", 31, "confirmed_decision"), ("victim-submitted", "hold", 31, "victim_submitted")]
        );

        let (status, created) = app
            .post(
                "/api/v1/banks",
                &json!({"name": "stopncii", "action": "hold", "threshold": 20, "provenance": "external_list", "description": "weekly"}),
                Some(&admin),
            )
            .await;
        assert_eq!((status, created["threshold"].as_u64()), (201, Some(20)), "{created}");
        let (status, _) = app.post("/api/v1/banks", &json!({"name": "stopncii", "action": "hold"}), Some(&admin)).await;
        assert_eq!(status, 409);
        let (status, problem) =
            app.post("/api/v1/banks", &json!({"name": "Bad Name", "threshold": 40}), Some(&admin)).await;
        assert_eq!((status, error_fields(&problem)), (422, vec!["name".into(), "action".into(), "threshold".into()]));

        let (status, e) = app
            .post("/api/v1/banks/stopncii/entries", &json!({"pdq": "F".repeat(64), "quality": 77, "note": "n"}), Some(&admin))
            .await;
        assert_eq!(status, 201, "{e}");
        assert_eq!((e["pdq"].as_str(), e["quality"].as_u64()), (Some(&*"f".repeat(64)), Some(77)));
        assert!(e["added_by"].as_str().unwrap().starts_with("key:"));
        let id = e["id"].as_str().unwrap().to_owned();
        let (status, problem) = app.post("/api/v1/banks/stopncii/entries", &json!({"md5": "xyz"}), Some(&admin)).await;
        assert_eq!((status, error_fields(&problem)), (422, vec!["md5".to_owned()]));
        assert_eq!(app.post("/api/v1/banks/nope/entries", &json!({"md5": "a".repeat(32)}), Some(&admin)).await.0, 404);

        let (status, page) = app.get("/api/v1/banks/stopncii", Some(&admin)).await;
        assert_eq!((status, page["entry_count"].as_i64(), page["entries"][0]["id"].as_str()), (200, Some(1), Some(&*id)));
        assert_eq!(app.state.banks().len(), 1, "the index follows the API");
        assert_eq!(app.delete(&format!("/api/v1/banks/stopncii/entries/{id}"), Some(&admin)).await, 204);
        assert_eq!(app.delete(&format!("/api/v1/banks/stopncii/entries/{id}"), Some(&admin)).await, 404);
        assert_eq!(app.get("/api/v1/banks/stopncii", Some(&admin)).await.1["entry_count"], 0);
        assert_eq!(app.state.banks().len(), 0);
        assert_eq!(app.get("/api/v1/banks/nope", Some(&admin)).await.0, 404);

        // Roles: anonymous 401, every other role 403, on every bank route.
        let e = format!("/api/v1/banks/stopncii/entries/{id}");
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            let key = app.key(role, "someone").await;
            for k in [None, Some(key.as_str())] {
                let want = if k.is_none() { 401 } else { 403 };
                assert_eq!(app.get("/api/v1/banks", k).await.0, want, "{role:?}");
                assert_eq!(app.get("/api/v1/banks/confirmed", k).await.0, want, "{role:?}");
                assert_eq!(app.post("/api/v1/banks", &json!({}), k).await.0, want, "{role:?}");
                assert_eq!(app.post("/api/v1/banks/confirmed/entries", &json!({}), k).await.0, want, "{role:?}");
                assert_eq!(app.delete(&e, k).await, want, "{role:?}");
            }
        }
        assert!(app.store().verify_audit().await.unwrap().broken.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_cases_hashes_go_into_a_bank_once() {
    each_backend(|app| async move {
        let platform = app.key(Role::Platform, "Uploads").await;
        // A victim's hash-only notice opens a case…
        let mut hash_only = notice("https://unused.example");
        hash_only["locations"] = serde_json::Value::Null;
        hash_only["hashes"] = json!([{"pdq": "1f".repeat(32), "pdq_quality": 92}, {"sha256": "2e".repeat(32)}]);
        let receipt = app.file(&hash_only, None).await;
        let victim_case = find_case(&app, receipt["id"].as_str().unwrap()).await;

        // …which a reviewer confirms: the lead's decision code banks its hashes.
        let now = app.state.now();
        let n = app
            .store()
            .bank_case_hashes(&victim_case, "victim-submitted", "key:rev", "decision d1", now)
            .await
            .unwrap();
        assert_eq!(n, 2);
        let again = app
            .store()
            .bank_case_hashes(&victim_case, "victim-submitted", "key:rev", "decision d1", now)
            .await
            .unwrap();
        assert_eq!(again, 0, "hashes the bank already holds are skipped");
        app.state.refresh_banks().await;

        // A re-upload is now held, and its content item is banked into `confirmed` with the case.
        let (_, held) = app
            .post("/api/v1/screen", &json!({"sha256": "2e".repeat(32), "md5": "3d".repeat(16)}), Some(&platform))
            .await;
        assert_eq!(held["verdict"], "hold", "{held}");
        let held_case = held["case_id"].as_str().unwrap();
        assert_eq!(held_case, victim_case, "the same hash joins the open case");
        let n = app.store().bank_case_hashes(held_case, "confirmed", "key:rev", "decision d2", now).await.unwrap();
        assert_eq!(n, 3, "the victim's two hash sets and the upload's (its content item adds nothing new)");
        let (_, page) = app.get("/api/v1/banks/confirmed", Some(&app.key(Role::Admin, "A").await)).await;
        let reasons: Vec<&str> =
            page["entries"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons, vec![format!("case {held_case}: decision d2"); 3]);
        assert!(matches!(
            app.store().bank_case_hashes(held_case, "nope", "a", "r", now).await,
            Err(staydown_store::StoreError::NotFound)
        ));
        let audit = app.store().audit_for("bank:confirmed").await.unwrap();
        assert_eq!(audit.last().unwrap().action, "bank.case_hashes_added");
        assert!(app.store().verify_audit().await.unwrap().broken.is_none());
    })
    .await;
}

async fn find_case(app: &TestApp, notice_id: &str) -> String {
    let reviewer = app.key(Role::Reviewer, "R").await;
    for case in app.queue(&reviewer).await {
        let id = case["case_id"].as_str().unwrap();
        if app.store().case_notice_ids(id).await.unwrap().iter().any(|n| n == notice_id) {
            return id.to_owned();
        }
    }
    panic!("no case holds notice {notice_id}");
}

/// Two server processes on one PostgreSQL database: a change committed through one reaches the
/// other's index through LISTEN/NOTIFY (the timer is set to an hour, so only the notification can).
#[tokio::test]
async fn bank_changes_reach_another_server_through_postgres_notifications() {
    if !staydown_testkit::backends().await.contains(&Backend::Postgres) {
        return;
    }
    let app = TestApp::start(Backend::Postgres).await;
    let store_b = Store::connect(app.db_url()).await.unwrap();
    let b = AppState::new(store_b, Policy::default(), Settings::default(), Mailer::None, system_clock());
    let sync = spawn_bank_sync(b.clone(), Duration::from_secs(3600));
    tokio::time::timeout(Duration::from_secs(30), b.banks().wait_applied(0)).await.expect("B built its index");

    let admin = app.key(Role::Admin, "Admin").await;
    let (status, e) = app.post("/api/v1/banks/confirmed/entries", &json!({"md5": "7a".repeat(16)}), Some(&admin)).await;
    assert_eq!(status, 201);
    let added_at = app.state.banks().applied();
    tokio::time::timeout(Duration::from_secs(30), b.banks().wait_applied(added_at))
        .await
        .expect("B heard of the entry");
    let query = Query { md5: Some([0x7a; 16]), ..Query::default() };
    assert_eq!(b.banks().search(&query)[0].entry_id, e["id"].as_str().unwrap());

    let id = e["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/banks/confirmed/entries/{id}"), Some(&admin)).await, 204);
    let removed_at = app.state.banks().applied();
    tokio::time::timeout(Duration::from_secs(30), b.banks().wait_applied(removed_at))
        .await
        .expect("B heard of the removal");
    assert!(b.banks().search(&query).is_empty());
    sync.abort();
}
