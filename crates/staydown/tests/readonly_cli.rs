//! Commands that only read refuse a database that does not exist instead of creating an empty
//! one and reporting "intact" or zeros.

use std::process::Command;

#[test]
fn read_only_commands_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let url = format!("sqlite://{}", path.display());
    let bin = env!("CARGO_BIN_EXE_staydown");
    let commands: [&[&str]; 6] = [
        &["audit", "verify", "--database", &url],
        &["report", "--database", &url, "--from", "2026-01-01", "--to", "2026-12-31"],
        &["sor", "queue", "--database", &url],
        &["sor", "export", "--database", &url, "--since", "2026-01-01"],
        &["bank", "--database", &url, "list"],
        &["bank", "--database", &url, "export", "--bank", "confirmed", "--format", "csv", "/dev/null"],
    ];
    for args in commands {
        let out = Command::new(bin).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded on a missing database: {stderr}");
        assert!(stderr.contains("no staydown database"), "{args:?}: {stderr}");
        assert!(!path.exists(), "{args:?} created {}", path.display());
    }
}
