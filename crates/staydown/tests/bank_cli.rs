//! `staydown bank` end to end (issue 5), on SQLite and PostgreSQL: export → import into a new bank →
//! export gives identical files in every format, and a malformed file is refused with every bad
//! line named and nothing imported (unless `--skip-invalid`).

use std::path::Path;
use std::process::Output;

use staydown_testkit::{TestDatabase, backends, fresh_database};

fn staydown(db: &TestDatabase, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_staydown"))
        .args(args)
        .args(["--database", &db.url])
        .output()
        .expect("run staydown")
}

fn ok(db: &TestDatabase, args: &[&str]) -> String {
    let out = staydown(db, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Entry count of `bank` from `staydown bank list`.
fn count(db: &TestDatabase, bank: &str) -> u64 {
    let list = ok(db, &["bank", "list"]);
    let row = list.lines().find(|l| l.starts_with(&format!("{bank}\t"))).unwrap_or_else(|| panic!("{bank}: {list}"));
    row.split('\t').nth(4).unwrap().parse().unwrap()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

const PDQ_A: &str = "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";
const PDQ_B: &str = "f8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b23";

#[tokio::test]
async fn export_then_import_into_a_new_bank_gives_identical_entries() {
    for backend in backends().await {
        let db = fresh_database(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let sha = "ab".repeat(32);
        let md5 = "cd".repeat(16);
        let source = format!(
            "pdq,quality,sha256,md5,note\n{PDQ_A},100,,,\"from a helpline, \"\"batch 7\"\"\"\n,,{sha},,\n,,,{md5},plain\n{PDQ_B},62,{sha},{md5},\n"
        );
        std::fs::write(dir.path().join("in.csv"), source).unwrap();
        ok(&db, &["bank", "create", "src", "--action", "block", "--threshold", "25", "--provenance", "helpline"]);
        ok(&db, &["bank", "import", "--bank", "src", "--format", "csv", &path(dir.path(), "in.csv")]);
        assert_eq!(count(&db, "src"), 4, "{backend:?}");

        for (format, ext, n) in [("csv", "csv", 5), ("json", "jsonl", 4), ("te", "te", 2)] {
            let first = path(dir.path(), &format!("src.{ext}"));
            ok(&db, &["bank", "export", "--bank", "src", "--format", format, &first]);
            let copy = format!("copy-{format}");
            ok(&db, &["bank", "create", &copy, "--action", "hold"]);
            ok(&db, &["bank", "import", "--bank", &copy, "--format", format, &first]);
            let second = path(dir.path(), &format!("copy.{ext}"));
            ok(&db, &["bank", "export", "--bank", &copy, "--format", format, &second]);
            let (a, b) = (std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap());
            assert_eq!(a.lines().count(), n, "{backend:?} {format}: {a}");
            assert_eq!(a, b, "{backend:?} {format}: the round trip changed the entries");
        }
        // Importing the same file again adds nothing.
        let again = staydown(&db, &["bank", "import", "--bank", "src", "--format", "csv", &path(dir.path(), "in.csv")]);
        assert!(String::from_utf8_lossy(&again.stderr).contains("imported 0 entries"), "{again:?}");
        assert_eq!(count(&db, "src"), 4);
    }
}

#[tokio::test]
async fn a_malformed_file_names_every_bad_line_and_imports_nothing() {
    for backend in backends().await {
        let db = fresh_database(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "bad.jsonl");
        let text = format!(
            "{{\"pdq\": \"{PDQ_A}\", \"quality\": 90}}\n\n{{\"pdq\": \"not hex\"}}\n{{\"md5\": \"{}\"}}\n{{\"sha256\": 7}}\n{{}}\n",
            "e".repeat(32)
        );
        std::fs::write(&file, text).unwrap();
        let out = staydown(&db, &["bank", "import", "--bank", "confirmed", "--format", "json", &file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{backend:?}: {stderr}");
        for line in ["line 3: pdq", "line 5:", "line 6: pdq"] {
            assert!(stderr.contains(&format!("bad.jsonl: {line}")), "{backend:?}: `{line}` missing from {stderr}");
        }
        assert!(!stderr.contains("line 1:") && !stderr.contains("line 4:"), "{stderr}");
        assert!(stderr.contains("3 bad line(s); nothing was imported"), "{stderr}");
        assert_eq!(count(&db, "confirmed"), 0, "{backend:?}: nothing half-imported");

        ok(&db, &["bank", "import", "--bank", "confirmed", "--format", "json", "--skip-invalid", &file]);
        assert_eq!(count(&db, "confirmed"), 2, "{backend:?}");
        let missing = staydown(&db, &["bank", "import", "--bank", "nope", "--format", "csv", &file]);
        assert!(!missing.status.success());
    }
}

/// Issue 14: an Excel "CSV UTF-8" file (byte-order mark, CRLF) imports; `--hashed-by` is recorded
/// on the bank and shown by `bank list`, with a warning for python-threatexchange hashes;
/// `--dihedral` is shown too.
#[tokio::test]
async fn excel_csv_with_a_bom_imports_and_hashed_by_is_recorded() {
    for backend in backends().await {
        let db = fresh_database(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "excel.csv");
        std::fs::write(&file, format!("\u{feff}pdq,quality,sha256,md5,note\r\n{PDQ_A},90,,,from excel\r\n")).unwrap();
        ok(&db, &["bank", "create", "hma", "--action", "hold", "--dihedral", "true"]);
        let out = staydown(
            &db,
            &["bank", "import", "--bank", "hma", "--format", "csv", "--hashed-by", "python-threatexchange", &file],
        );
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("palette images"), "{out:?}");
        assert_eq!(count(&db, "hma"), 1);
        let list = ok(&db, &["bank", "list"]);
        let row: Vec<&str> = list.lines().find(|l| l.starts_with("hma\t")).unwrap().split('\t').collect();
        assert_eq!((row[5], row[6]), ("true", "python-threatexchange"), "{list}");
        let seeded: Vec<&str> =
            list.lines().find(|l| l.starts_with("external")).map_or(vec![], |l| l.split('\t').collect());
        assert!(seeded.is_empty() || seeded[5] == "false");
        let victims: Vec<&str> =
            list.lines().find(|l| l.starts_with("victim-submitted\t")).unwrap().split('\t').collect();
        assert_eq!((victims[5], victims[6]), ("true", "-"), "{list}");
    }
}

/// `staydown bank create --video-*-pct` and `bank video-thresholds` set the two vPDQ thresholds
/// the API's `PUT /api/v1/banks/{name}/video-thresholds` sets; a direction not given keeps its
/// value, `off` turns it off, and a percentage outside 1–100 is refused without a change.
#[tokio::test]
async fn video_thresholds_are_set_from_the_command_line() {
    for backend in backends().await {
        let db = fresh_database(backend).await;
        ok(
            &db,
            &["bank", "create", "clips", "--action", "block", "--video-query-pct", "60", "--video-banked-pct", "off"],
        );
        assert_eq!(ok(&db, &["bank", "video-thresholds", "clips"]), "query_pct\t60\nbanked_pct\toff\n", "{backend:?}");
        ok(&db, &["bank", "create", "plain", "--action", "hold"]);
        assert_eq!(ok(&db, &["bank", "video-thresholds", "plain"]), "query_pct\t80\nbanked_pct\t80\n", "{backend:?}");

        let out = ok(&db, &["bank", "video-thresholds", "clips", "--banked-pct", "95"]);
        assert_eq!(out, "query_pct\t60\nbanked_pct\t95\n", "{backend:?}");
        let out = ok(&db, &["bank", "video-thresholds", "clips", "--query-pct", "off"]);
        assert_eq!(out, "query_pct\toff\nbanked_pct\t95\n", "{backend:?}");

        for bad in ["0", "101", "half"] {
            let out = staydown(&db, &["bank", "video-thresholds", "clips", "--query-pct", bad]);
            assert!(!out.status.success(), "{bad} accepted ({backend:?})");
            assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 100"), "{bad} ({backend:?})");
        }
        let out = staydown(&db, &["bank", "video-thresholds", "nosuch", "--query-pct", "50"]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no bank named"));
        assert_eq!(ok(&db, &["bank", "video-thresholds", "clips"]), "query_pct\toff\nbanked_pct\t95\n", "{backend:?}");
    }
}

/// Issue 14: `bank set NAME --dihedral true|false` changes the setting after creation, audited;
/// an unknown bank or a missing value is refused.
#[tokio::test]
async fn bank_set_changes_dihedral_after_creation() {
    for backend in backends().await {
        let db = fresh_database(backend).await;
        let dihedral = |db: &TestDatabase| {
            let list = ok(db, &["bank", "list"]);
            list.lines().find(|l| l.starts_with("ext\t")).unwrap().split('\t').nth(5).unwrap().to_owned()
        };
        ok(&db, &["bank", "create", "ext", "--action", "flag"]);
        assert_eq!(dihedral(&db), "false", "{backend:?}");
        ok(&db, &["bank", "set", "ext", "--dihedral", "true"]);
        assert_eq!(dihedral(&db), "true", "{backend:?}");
        ok(&db, &["bank", "set", "ext", "--dihedral", "false"]);
        assert_eq!(dihedral(&db), "false", "{backend:?}");
        let out = staydown(&db, &["bank", "set", "nope", "--dihedral", "true"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no bank named `nope`"), "{out:?}");
        assert!(!staydown(&db, &["bank", "set", "ext"]).status.success(), "--dihedral needs a value");
        let store = staydown_store::Store::connect_existing(&db.url).await.unwrap();
        let audit = store.audit_for("bank:ext").await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.action == "bank.dihedral_set").count(), 2, "{backend:?}");
    }
}
