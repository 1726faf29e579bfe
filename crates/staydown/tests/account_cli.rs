//! `staydown account create`: the password comes from the environment or stdin, never a flag;
//! weak passwords and unknown roles are refused with the reason.

use std::io::Write;
use std::process::{Command, Stdio};

use staydown_store::Store;

#[test]
fn accounts_are_created_with_a_hashed_password_from_env_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("staydown.db").display());
    let bin = env!("CARGO_BIN_EXE_staydown");

    let out = Command::new(bin)
        .args(["account", "create", "--database", &db, "--role", "senior_reviewer", "sara"])
        .env("STAYDOWN_ACCOUNT_PASSWORD", "a long enough passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut child = Command::new(bin)
        .args(["account", "create", "--database", &db, "--role", "auditor", "aud"])
        .env_remove("STAYDOWN_ACCOUNT_PASSWORD")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"another long passphrase\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    // Helpline mode's caseworkers (issue 13) are staff accounts too.
    let out = Command::new(bin)
        .args(["account", "create", "--database", &db, "--role", "caseworker", "casey"])
        .env("STAYDOWN_ACCOUNT_PASSWORD", "a caseworker's long passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let weak = Command::new(bin)
        .args(["account", "create", "--database", &db, "--role", "platform", "bot"])
        .env("STAYDOWN_ACCOUNT_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    let err = String::from_utf8_lossy(&weak.stderr);
    assert!(err.contains("role") && err.contains("password"), "{err}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        let sara = store.account_by_username("sara").await.unwrap().expect("sara exists");
        assert_eq!(sara.role.as_str(), "senior_reviewer");
        assert!(sara.password_hash.starts_with("$argon2id$"), "{}", sara.password_hash);
        assert!(!sara.password_hash.contains("passphrase"));
        assert!(store.account_by_username("aud").await.unwrap().is_some());
        let casey = store.account_by_username("casey").await.unwrap().expect("casey exists");
        assert_eq!(casey.role.as_str(), "caseworker");
        assert!(store.account_by_username("bot").await.unwrap().is_none());
    });
}
