//! `staydown serve --role …` with the real binary (issue 16 goal 4): roles refused where they cannot
//! work, and a screening node that starts from `staydown bank snapshot`'s file, caught up from the
//! change log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use staydown_testkit::{Backend, TestDatabase, backends, fresh_database};

const BIN: &str = env!("CARGO_BIN_EXE_staydown");

fn staydown(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("STAYDOWN_CONFIG").env_remove("STAYDOWN_ROLE").output().expect("run")
}

fn ok(db: &TestDatabase, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).args(["--database", &db.url]).output().expect("run staydown");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn separate_roles_are_refused_on_sqlite_and_unknown_roles_everywhere() {
    let db = fresh_database(Backend::Sqlite).await;
    for role in ["screen", "api,worker"] {
        let out = staydown(&["serve", "--database", &db.url, "--listen", "127.0.0.1:0", "--role", role]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("separate roles need PostgreSQL"), "{stderr}");
    }
    let out = staydown(&["serve", "--database", &db.url, "--listen", "127.0.0.1:0", "--role", "api,screener"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("unknown role \"screener\""), "{stderr}");
    // The same from the config file's `role` and from STAYDOWN_ROLE.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("staydown.toml");
    std::fs::write(&config, "role = [\"screen\"]\n").unwrap();
    let config = config.to_str().unwrap();
    let out = staydown(&["serve", "--config", config, "--database", &db.url, "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("role screen: separate roles need PostgreSQL"), "{stderr}");
    let out = Command::new(BIN)
        .args(["serve", "--database", &db.url, "--listen", "127.0.0.1:0"])
        .env_remove("STAYDOWN_CONFIG")
        .env("STAYDOWN_ROLE", "worker")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("role worker: separate roles need PostgreSQL"), "{stderr}");
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[tokio::test]
async fn a_screener_starts_from_a_bank_snapshot_and_catches_up_from_the_change_log() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let db = fresh_database(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, format!("md5\n{}\n{}\n", "a1".repeat(16), "b2".repeat(16))).unwrap();
    ok(&db, &["bank", "import", "--bank", "confirmed", "--format", "csv", csv.to_str().unwrap()]);
    let snapshot = dir.path().join("index.snapshot");
    let out = Command::new(BIN)
        .args(["bank", "snapshot", "--out", snapshot.to_str().unwrap(), "--database", &db.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("index snapshot of 2 entries"), "{stderr}");
    // After the snapshot: one more entry, which the screener must learn from the change log.
    std::fs::write(&csv, format!("md5\n{}\n", "c3".repeat(16))).unwrap();
    ok(&db, &["bank", "import", "--bank", "confirmed", "--format", "csv", csv.to_str().unwrap()]);
    let platform = ok(&db, &["key", "create", "--role", "platform", "--name", "Uploads"]).trim().to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["serve", "--role", "screen", "--database", &db.url, "--listen", &format!("127.0.0.1:{port}")])
        .arg("--index-snapshot")
        .arg(&snapshot)
        .env("STAYDOWN_LOG", "info")
        .env_remove("STAYDOWN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let server = Server(child);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    while let Some(line) = rx.recv().await {
        let ready = line.contains("screening index ready");
        log.push(line);
        if ready {
            break;
        }
    }
    let log = log.join("\n");
    assert!(log.contains("index snapshot loaded") && log.contains("entries=2"), "{log}");
    assert!(log.contains("roles screen"), "{log}");

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for (md5, verdict) in [("a1", "block"), ("c3", "block"), ("d4", "allow")] {
        let answer: serde_json::Value = client
            .post(format!("{base}/api/v1/screen"))
            .bearer_auth(&platform)
            .json(&serde_json::json!({"md5": md5.repeat(16)}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["verdict"], verdict, "{md5}: {answer}");
    }
    let response = client.get(format!("{base}/api/v1/banks")).bearer_auth(&platform).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 421, "a screener serves no other route");
    drop(server);
}
