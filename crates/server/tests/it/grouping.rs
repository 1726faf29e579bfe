use serde_json::json;
use staydown_domain::roles::Role;

use crate::support::{each_backend, notice};

#[tokio::test]
async fn notices_on_the_same_content_share_a_case() {
    each_backend(|app| async move {
        let reviewer = app.key(Role::Reviewer, "R").await;
        let flagger = app.key(Role::TrustedFlagger, "TF").await;
        // Same URL after normalisation (case of host, tracking parameter, fragment, trailing slash).
        app.file(&notice("https://Social.Example/p/1/?utm_source=share#c"), None).await;
        let mut tf = notice("https://social.example/p/1");
        tf["notifier"] = serde_json::Value::Null;
        let joined = app.file(&tf, Some(&flagger)).await;
        // Same platform content id.
        let mut by_id = notice("https://other.example/x");
        by_id["locations"] = json!([{"content_id": "img-9"}]);
        app.file(&by_id, None).await;
        app.file(&by_id, None).await;
        // Same SHA-256, no location at all (hash-only).
        let mut by_hash = notice("https://unused.example");
        by_hash["locations"] = serde_json::Value::Null;
        by_hash["hashes"] = json!({"sha256": "a".repeat(64)});
        app.file(&by_hash, None).await;
        let mut with_url_and_hash = notice("https://third.example/q");
        with_url_and_hash["hashes"] = json!([{"sha256": "A".repeat(64)}]);
        app.file(&with_url_and_hash, None).await;
        // Different content.
        app.file(&notice("https://social.example/p/2"), None).await;

        let queue = app.queue(&reviewer).await;
        let mut counts: Vec<i64> = queue.iter().map(|c| c["notice_count"].as_i64().unwrap()).collect();
        counts.sort_unstable();
        assert_eq!(counts, [1, 2, 2, 2]);
        // The flagger's notice tightened the joined case to the flagger's deadline and priority.
        let case = queue.iter().find(|c| c["case_id"] == joined["case_id"]).unwrap();
        assert_eq!(case["priority"], 1);
        assert_eq!(case["sources"], json!(["article_16", "trusted_flagger"]));
    })
    .await;
}

#[tokio::test]
async fn concurrent_notices_committed_together_still_group_and_chain() {
    each_backend(|app| async move {
        let reviewer = app.key(Role::Reviewer, "R").await;
        let app = std::sync::Arc::new(app);
        // 40 notices at once on one URL and 40 on 40 different URLs: the intake writer commits
        // them in shared transactions, and notices in one batch must still see each other.
        let mut tasks = Vec::new();
        for i in 0..80 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let url =
                    if i % 2 == 0 { "https://same.example/p".to_owned() } else { format!("https://many.example/{i}") };
                app.file(&notice(&url), None).await["id"].as_str().unwrap().to_owned()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 80);
        assert_eq!(app.store().count_notices().await.unwrap(), 80);
        let queue = app.queue(&reviewer).await;
        assert_eq!(queue.len(), 41);
        assert_eq!(queue.iter().map(|c| c["notice_count"].as_i64().unwrap()).max(), Some(40));
        let report = app.store().verify_audit().await.unwrap();
        assert_eq!((report.entries, report.broken), (1 + 80 * 2, None));
        // The batches' rollup increments add up to every notice (issue 16).
        let today = app.state.now().date();
        let period = staydown_store::Period::days(today, today);
        let rollups = app.store().transparency_report(period).await.unwrap();
        let received = rollups.table("notices").unwrap().figure(&["TOTAL"], "notices_received");
        assert_eq!(received, Some(staydown_store::Figure::Count(80)));
        assert!(rollups.differences(&app.store().transparency_report_sql(period).await.unwrap(), 60_000.0).is_empty());
    })
    .await;
}

/// Notices that each open a case of their own are group-committed with multi-row statements
/// (`intake_batch.rs`, issue 16): every row, confirmation, audit entry and rollup is there as the
/// one-by-one path writes it, and a later notice on one of their URLs still joins its case.
#[tokio::test]
async fn concurrent_notices_on_new_content_written_by_the_multi_row_path() {
    each_backend(|app| async move {
        let reviewer = app.key(Role::Reviewer, "R").await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for i in 0..60 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut body = notice(&format!("https://fresh.example/{i}"));
                if i % 3 == 0 {
                    body["ai_generated"] = serde_json::json!("yes");
                }
                app.file(&body, None).await["id"].as_str().unwrap().to_owned()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(app.store().count_notices().await.unwrap(), 60);
        assert_eq!(app.queue(&reviewer).await.len(), 60);
        assert_eq!(app.store().outbox_items("notice.received").await.unwrap().len(), 60);
        let report = app.store().verify_audit().await.unwrap();
        assert_eq!((report.entries, report.broken), (1 + 60 * 2, None));
        let today = app.state.now().date();
        let period = staydown_store::Period::days(today, today);
        let rollups = app.store().transparency_report(period).await.unwrap();
        let figure = |table: &str, column: &str| {
            rollups.table(table).unwrap().figure(&["TOTAL"; 3][..rollups.table(table).unwrap().dims.len()], column)
        };
        assert_eq!(figure("notices", "notices_received"), Some(staydown_store::Figure::Count(60)));
        assert_eq!(figure("ai_generated_claims", "cases"), Some(staydown_store::Figure::Count(60)));
        assert!(rollups.differences(&app.store().transparency_report_sql(period).await.unwrap(), 60_000.0).is_empty());
        app.store().rebuild_rollups().await.unwrap();
        assert_eq!(app.store().transparency_report(period).await.unwrap(), rollups);
        // The case keys were written: the same URL again joins its case.
        app.file(&notice("https://fresh.example/7"), None).await;
        assert_eq!(app.queue(&reviewer).await.len(), 60);
    })
    .await;
}
