//! `staydown provenance` on the repository's C2PA fixtures, through the real binary.

use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/c2pa/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn staydown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_staydown")).args(args).output().expect("run staydown")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 stdout")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[test]
fn prints_one_object_per_file() {
    let ocsp = fixture("ocsp.jpg");
    let plain = fixture("sample1.png");
    let output = staydown(&["provenance", &ocsp, &plain]);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["path"], ocsp.as_str());
    assert_eq!(lines[0]["ai_generated"], "yes");
    assert_eq!(lines[0]["generator"], "Adobe Firefly");
    assert_eq!(lines[0]["edited"], "yes");
    assert!(
        lines[0]["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .any(|s| s["source"] == "c2pa" && s["key"] == "manifest.editor" && s["value"] == "Adobe Photoshop")
    );
    assert_eq!(lines[1]["path"], plain.as_str());
    assert_eq!(lines[1]["ai_generated"], "unknown");
    assert_eq!(lines[1]["generator"], serde_json::Value::Null);
}

#[test]
fn unreadable_files_get_an_error_line_and_a_failing_exit() {
    let missing = fixture("does-not-exist.jpg");
    let dir = fixture("");
    let good = fixture("C_with_CAWG_data.jpg");
    let output = staydown(&["provenance", &missing, &good, &dir]);
    assert!(!output.status.success());
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1, "the readable file is still reported");
    assert_eq!(lines[0]["ai_generated"], "no");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("error: {missing}: cannot open")), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(stderr.contains("2 of 3 files could not be read"), "{stderr}");
}

#[test]
fn files_over_the_limit_are_refused() {
    let output = staydown(&["provenance", "--max-bytes", "1000", &fixture("C.jpg")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("more than the limit of 1000"));
    assert!(output.stdout.is_empty());
}

/// Issue 14: canary prompts in every container staydown reads (fixtures/media/canary.*, made by
/// make.py) never reach `staydown provenance` or `staydown hash` output, in any format.
#[test]
fn no_metadata_text_reaches_the_output() {
    let dir = format!("{}/../../fixtures/media", env!("CARGO_MANIFEST_DIR"));
    let files: Vec<String> =
        ["canary.png", "canary.jpg", "canary.webp", "canary.heic", "canary.avif", "canary-c2pa.jpg"]
            .iter()
            .map(|f| format!("{dir}/{f}"))
            .collect();
    let paths: Vec<&str> = files.iter().map(String::as_str).collect();
    let mut runs = vec![["provenance"].iter().chain(&paths).copied().collect::<Vec<_>>()];
    runs.push(["hash"].iter().chain(&paths).copied().collect());
    runs.push(["hash", "--format", "csv"].iter().chain(&paths).copied().collect());
    for args in runs {
        let output = staydown(&args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
            .to_lowercase();
        assert!(all.contains("canary.heic"), "{args:?} printed every file: {all}");
        for canary in ["janecanaryperson", "canaryq7z", "canary_lora_v2"] {
            assert!(!all.contains(canary), "{args:?}: {canary} leaked: {all}");
        }
    }
}

/// Issue 14: the EXIF and XMP items inside HEIC and AVIF are read by `staydown provenance`
/// (fixtures/media/ai-label.*, made by make.py with an IPTC AI label and EXIF Software).
#[test]
fn heic_and_avif_metadata_items_are_read() {
    let dir = format!("{}/../../fixtures/media", env!("CARGO_MANIFEST_DIR"));
    let files = [format!("{dir}/ai-label.heic"), format!("{dir}/ai-label.avif")];
    let output = staydown(&["provenance", &files[0], &files[1]]);
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line["ai_generated"], "yes", "{line}");
        assert_eq!(line["generator"], "Adobe Firefly", "{line}");
        let signals = line["signals"].as_array().expect("signals");
        assert!(signals.iter().any(|s| s["source"] == "xmp" && s["value"] == "trainedAlgorithmicMedia"), "{line}");
        assert!(signals.iter().any(|s| s["source"] == "exif" && s["key"] == "Software"), "{line}");
    }
}
