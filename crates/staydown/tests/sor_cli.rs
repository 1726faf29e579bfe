//! `staydown sor export` / `sor queue` end to end (issue 7, DSA Art. 24(5)): the export writes the
//! Transparency Database's exact JSON, one statement per line, for the asked period only.

use std::process::{Command, Output};

use staydown_domain::tdb::Statement;
use staydown_store::Store;
use time::macros::datetime;

fn staydown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_staydown")).args(args).output().expect("run staydown")
}

fn statement(puid: &str) -> Statement {
    serde_json::from_value(serde_json::json!({
        "puid": puid,
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms of service, clause 4.2",
        "incompatible_content_explanation": "Intimate imagery shared without consent.",
        "content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
        "territorial_scope": ["NL"],
        "content_date": "2026-10-30",
        "application_date": "2026-11-01",
        "decision_facts": "A hash match with a removed deepfake nude.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY"
    }))
    .expect("a valid statement")
}

#[test]
fn export_writes_the_api_json_of_the_period_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("staydown.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored: Vec<String> = rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        let at = [datetime!(2026-11-01 10:00 UTC), datetime!(2026-11-02 10:00 UTC), datetime!(2026-11-03 10:00 UTC)];
        for (i, at) in at.into_iter().enumerate() {
            store.enqueue_statement(&format!("decision-{i}"), &statement(&format!("sd-{i}")), at).await.unwrap();
        }
        let mut json = Vec::new();
        for i in 0..3 {
            json.push(store.queued_statement(&format!("sd-{i}")).await.unwrap().unwrap().statement_json);
        }
        store.close().await;
        json
    });
    assert!(stored[0].starts_with("{\"puid\":\"sd-0\",\"decision_visibility\":["), "{}", stored[0]);

    let out = staydown(&["sor", "export", "--database", &db, "--since", "2026-11-02", "--format", "jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, [stored[1].as_str(), stored[2].as_str()]);
    for line in &lines {
        let parsed: Statement = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), *line, "the line is the API's JSON, byte for byte");
    }

    let file = dir.path().join("export.jsonl");
    let out = staydown(&[
        "sor",
        "export",
        "--database",
        &db,
        "--since",
        "2026-11-01T00:00:00Z",
        "--until",
        "2026-11-03",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{}\n{}\n", stored[0], stored[1]));

    let out = staydown(&["sor", "export", "--database", &db, "--since", "yesterday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));

    let out = staydown(&["sor", "queue", "--database", &db, "--state", "pending"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let queue = String::from_utf8(out.stdout).unwrap();
    assert_eq!(queue.lines().count(), 4, "{queue}");
    assert!(queue.lines().nth(1).unwrap().starts_with("sd-2\tpending\t0\t2026-11-03T10:00:00Z\tdecision-2"), "{queue}");
    let out = staydown(&["sor", "queue", "--database", &db, "--state", "failed"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1, "header only");
    assert!(!staydown(&["sor", "queue", "--database", &db, "--state", "lost"]).status.success());
}

/// `staydown sor requeue` puts refused statements back in the queue (issue 12): by puid, or all.
#[test]
fn requeue_sends_refused_statements_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("staydown.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        for i in 0..3 {
            let at = datetime!(2026-11-01 10:00 UTC) + time::Duration::hours(i);
            store.enqueue_statement(&format!("decision-{i}"), &statement(&format!("sd-{i}")), at).await.unwrap();
            if i < 2 {
                store.mark_failed_permanently(&format!("sd-{i}"), "{\"errors\":{}}", at).await.unwrap();
            }
        }
        store.close().await;
    });
    let out = staydown(&["sor", "requeue", "--database", &db, "sd-2"]);
    assert!(!out.status.success(), "sd-2 was not refused");
    let out = staydown(&["sor", "requeue", "--database", &db, "sd-0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "sd-0\n");
    let out = staydown(&["sor", "requeue", "--database", &db, "--all-failed"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "sd-1\n");
    let states = rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        let mut states = Vec::new();
        for i in 0..3 {
            states.push(store.queued_statement(&format!("sd-{i}")).await.unwrap().unwrap().state.as_str());
        }
        store.close().await;
        states
    });
    assert_eq!(states, ["pending", "pending", "pending"]);
}
