//! `staydown bench index` end to end (issues 14 and 16): a small run with `--dihedral`,
//! `--tables` and `--dump` checks itself against brute force and writes what
//! `bench/faiss_index.py` reads; a table count outside 2..=16 is refused.

use std::process::{Command, Output};

fn staydown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_staydown")).args(args).output().expect("run staydown")
}

#[test]
fn a_small_dihedral_run_with_fewer_tables_agrees_with_brute_force_and_dumps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("d");
    let dump_arg = dump.to_str().unwrap();
    let args = ["bench", "index", "--entries", "3000", "--queries", "20", "--dihedral", "--tables", "9"];
    let out = staydown(&[&args[..], &["--dump", dump_arg]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("recall            1 ("), "{stdout}");
    assert!(stdout.contains("0 extra"), "{stdout}");
    assert!(stdout.contains("planted queries with a match: 10 of 10"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(json["large_level_tables"], 9);
    assert_eq!(json["queries"], 160, "8 dihedral variants per upload");
    assert_eq!(json["dihedral"], true);
    let staydown_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dump.join("staydown.json")).unwrap()).unwrap();
    assert_eq!(staydown_json, json);
    assert_eq!(std::fs::metadata(dump.join("entries.bin")).unwrap().len(), 3000 * 32);
    assert_eq!(std::fs::metadata(dump.join("queries.bin")).unwrap().len(), 160 * 32);

    for bad in ["1", "17"] {
        let out = staydown(&["bench", "index", "--entries", "10", "--tables", bad]);
        assert!(!out.status.success(), "--tables {bad} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--tables"), "--tables {bad}");
    }
}
