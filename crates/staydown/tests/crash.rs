//! Crash safety: notices posted concurrently while the server is killed with SIGKILL and
//! restarted, several rounds; every notice that got a 201 must be there afterwards, and the audit
//! chain must still verify. Runs the real binary on a SQLite file.

use std::process::Command;
use std::sync::{Arc, Mutex};

use staydown_testkit::serve::ServeProcess;

const BIN: &str = env!("CARGO_BIN_EXE_staydown");

/// The server on `db`; the clients all come from 127.0.0.1 and this test is about durability,
/// not the rate limit.
fn start(db: &str) -> ServeProcess {
    let unlimited = [("STAYDOWN_PUBLIC_NOTICES_PER_MINUTE", "1000000"), ("STAYDOWN_PUBLIC_NOTICE_BURST", "1000000")];
    ServeProcess::start(BIN, db, &unlimited)
}

fn notice(i: usize) -> serde_json::Value {
    serde_json::json!({
        "locations": [{"url": format!("https://crash.example/p/{i}")}],
        "explanation": "Intimate image without consent.",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "notifier": {"name": "C", "email": "c@example.org"},
        "good_faith": true
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_notices_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let client = reqwest::Client::new();
    let mut next = 0usize;

    for round in 0..4 {
        let mut server = start(&db);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let client = client.clone();
            let url = format!("{}/api/v1/notices", server.base);
            let acknowledged = acknowledged.clone();
            let tx = tx.clone();
            let first = next + worker * 10_000;
            tasks.push(tokio::spawn(async move {
                for i in first.. {
                    match client.post(&url).json(&notice(i)).send().await {
                        Ok(r) if r.status() == 201 => {
                            let body: serde_json::Value = match r.json().await {
                                Ok(b) => b,
                                Err(_) => return, // killed mid-body: not acknowledged
                            };
                            let id = body["id"].as_str().unwrap().to_owned();
                            let token = body["tracking_token"].as_str().unwrap().to_owned();
                            acknowledged.lock().unwrap().push((id, token));
                            tx.send(()).ok();
                        }
                        Ok(r) => panic!("round {round}: unexpected status {}", r.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        next += 100_000;
        // Kill the server in the middle of the stream, after a few dozen acknowledgements.
        for _ in 0..40 + round * 15 {
            rx.recv().await.unwrap();
        }
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
    }

    let server = start(&db);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 40 + 55 + 70 + 85, "{}", acknowledged.len());
    for (id, token) in &acknowledged {
        let r = client.get(format!("{}/api/v1/notices/{id}?token={token}", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged notice {id} was lost");
    }
    drop(server);

    let verify = Command::new(BIN).args(["audit", "verify", "--database", &db]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    eprintln!("{} acknowledged notices all present after 4 SIGKILLs", acknowledged.len());
}

#[tokio::test]
async fn audit_verify_exits_non_zero_and_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("audit.db").display());
    let out = Command::new(BIN)
        .args(["key", "create", "--database", &db, "--role", "reviewer", "--name", "a"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new(BIN)
        .args(["key", "create", "--database", &db, "--role", "auditor", "--name", "b"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ok = Command::new(BIN).args(["audit", "verify", "--database", &db]).output().unwrap();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 2 entries"));

    let store = staydown_store::Store::connect(&db).await.unwrap();
    store.danger_execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1").await.unwrap();
    store.close().await;
    let bad = Command::new(BIN).args(["audit", "verify", "--database", &db]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("entry 1 was changed"), "{text}");
}
