//! `staydown hash` end to end (issue 4): a folder of mixed valid and broken files gives one record
//! per valid image with the reference hash, one error line per broken file, and a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pdq")
}

fn staydown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_staydown")).args(args).output().expect("run staydown")
}

/// Expected (pdq, quality) of a fixture, from expected.csv.
fn expected(rel: &str) -> (String, u64) {
    let csv = std::fs::read_to_string(fixtures().join("expected.csv")).unwrap();
    let row =
        csv.lines().find(|l| l.starts_with(&format!("{rel},"))).unwrap_or_else(|| panic!("{rel} not in expected.csv"));
    let f: Vec<&str> = row.split(',').collect();
    (f[4].to_owned(), f[5].parse().unwrap())
}

fn copy(rel: &str, to: &Path) {
    std::fs::copy(fixtures().join(rel), to).unwrap();
}

#[test]
fn folder_of_mixed_valid_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("nested")).unwrap();
    copy("lossless/misc-images__wee.png", &root.join("a-wee.png"));
    copy("pytx/LA.png", &root.join("nested/b-la.PNG"));
    copy("misc-images/c.png", &root.join("nested/c-rgba.png"));
    std::fs::write(root.join("broken.jpg"), b"this is not a jpeg").unwrap();
    let png = std::fs::read(fixtures().join("lossless/misc-images__wee.png")).unwrap();
    std::fs::write(root.join("nested/truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(root.join("notes.txt"), b"not an image, not a failure").unwrap();
    let missing = root.join("does-not-exist.png");

    let out = staydown(&["hash", root.to_str().unwrap(), missing.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "must fail when files fail; stderr: {stderr}");

    let records: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}"))).collect();
    let names: Vec<&str> = records.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(records.len(), 3, "records: {names:?}; stderr: {stderr}");
    // Input order: folder entries sorted by name, recursively.
    assert!(names[0].ends_with("a-wee.png"), "{names:?}");
    assert!(names[1].ends_with("nested/b-la.PNG"), "{names:?}");
    assert!(names[2].ends_with("nested/c-rgba.png"), "{names:?}");

    for (record, fixture) in records.iter().zip(["lossless/misc-images__wee.png", "pytx/LA.png", "misc-images/c.png"]) {
        let (pdq, quality) = expected(fixture);
        assert_eq!(record["pdq"], pdq.as_str(), "{fixture}");
        assert_eq!(record["quality"], quality, "{fixture}");
        let sha = record["sha256"].as_str().unwrap();
        let md5 = record["md5"].as_str().unwrap();
        assert!(sha.len() == 64 && md5.len() == 32, "{record}");
        assert!(record["width"].as_u64().unwrap() > 0 && record["height"].as_u64().unwrap() > 0);
    }
    assert_eq!(records[0]["width"], 34);
    assert_eq!(records[0]["height"], 42);

    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "stderr: {stderr}");
    assert!(errors.iter().any(|l| l.contains("broken.jpg") && l.contains("not a supported image format")), "{stderr}");
    assert!(errors.iter().any(|l| l.contains("truncated.png") && l.contains("corrupt")), "{stderr}");
    assert!(errors.iter().any(|l| l.contains("does-not-exist.png")), "{stderr}");
    assert!(!stderr.contains("notes.txt"), "{stderr}");
    // No progress bar when stderr is not a terminal: only error lines and the summary.
    assert!(stderr.lines().all(|l| l.starts_with("error: ") || l.contains("could not be hashed")), "{stderr}");
}

#[test]
fn csv_output_and_success_exit() {
    let wee = fixtures().join("lossless/misc-images__wee.png");
    let jpeg = fixtures().join("misc-images/wee.jpg");
    let out = staydown(&["hash", "--format", "csv", "-j", "2", wee.to_str().unwrap(), jpeg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "path,pdq,quality,sha256,md5,width,height,ai_generated,generator,edited");
    assert_eq!(lines.len(), 3);
    let (pdq, quality) = expected("lossless/misc-images__wee.png");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert!(fields[0].ends_with("misc-images__wee.png"));
    assert_eq!(fields[1], pdq);
    assert_eq!(fields[2], quality.to_string());
    assert_eq!(&fields[5..], ["34", "42", "unknown", "", "unknown"]);
    // The JPEG: same digest columns as coreutils gave (see crates/media tests), valid PDQ hex.
    let fields: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(fields[3], "05636c50d0c2ffe3a820f964eaba35b404deadd10538fe452ad9fb16fdd823d7");
    assert_eq!(fields[4], "8bbbaa9540800e378beadc8bbef7bb32");
    assert_eq!(fields[1].len(), 64);
}

#[test]
fn byte_limit_is_reported_per_file() {
    let wee = fixtures().join("lossless/misc-images__wee.png");
    let out = staydown(&["hash", "--max-bytes", "100", wee.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("larger than the limit of 100 bytes"), "{stderr}");
}

/// Issue 6: every image that `staydown hash` sees also carries what the file says about its origin.
#[test]
fn hash_output_carries_provenance() {
    let c2pa = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/c2pa");
    let ai = c2pa.join("ocsp.jpg"); // Adobe Firefly, then edited in Photoshop
    let plain = fixtures().join("lossless/misc-images__wee.png");
    let out = staydown(&["hash", ai.to_str().unwrap(), plain.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records[0]["provenance"]["ai_generated"], "yes");
    assert_eq!(records[0]["provenance"]["generator"], "Adobe Firefly");
    assert_eq!(records[0]["provenance"]["edited"], "yes");
    assert_eq!(records[1]["provenance"]["ai_generated"], "unknown");
    assert!(records[1]["provenance"]["generator"].is_null());

    let csv = staydown(&["hash", "--format", "csv", ai.to_str().unwrap()]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.lines().nth(1).unwrap().ends_with(",yes,Adobe Firefly,yes"), "{text}");
}

/// Issue 17: a video gives the reference's vPDQ file (PyPI `vpdq` 0.2.5 on the same FFmpeg,
/// `fixtures/vpdq/expected-pypi/`), every frame or one a second, through the server's default
/// decoder (the libav child when built in, else the ffmpeg subprocess).
#[test]
fn a_video_gives_the_references_vpdq_file() {
    let vpdq = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq");
    let video = vpdq.join("videos/pattern-sd-grey-bar.mp4");
    let want = std::fs::read_to_string(vpdq.join("expected-pypi/pattern-sd-grey-bar.txt")).unwrap();
    let out = staydown(&["hash", "--format", "vpdq", "--seconds-per-hash", "0", video.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    // One frame a second (30 fps): every 30th line of the reference's every-frame file.
    let out = staydown(&["hash", "--format", "vpdq", video.to_str().unwrap()]);
    let every_30th: String = want.lines().step_by(30).map(|l| format!("{l}\n")).collect();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), every_30th);
}
