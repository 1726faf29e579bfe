use std::path::PathBuf;
use std::process::Command;

use staydown_domain::bank::VICTIM_SUBMITTED_BANK;
use staydown_vpdq::Sampling;
use staydown_vpdq::decode::{Limits, Tools, hash_file};

use crate::app::{App, check_page, session};
use crate::follow::remove_open_case;

/// Largest Hamming distance allowed between the browser's and the server's hash of the same
/// second of the test video (frames of quality ≥ 50); docs/video.md says why they differ at all.
const BROWSER_BOUND: u32 = 16;

/// One of the reference's sample videos (ThreatExchange `tmk/sample-videos`) re-encoded as VP9 in
/// WebM, which every Chromium build decodes (H.264 depends on how the browser was built).
fn webm(dir: &std::path::Path, name: &str) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq/videos").join(format!("{name}.mp4"));
    let out = dir.join(format!("{name}.webm"));
    let run = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&src)
        .args(["-an", "-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"])
        .arg(&out)
        .output()
        .expect("ffmpeg is installed (.ci/run installs it)");
    assert!(run.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&run.stderr));
    out
}

#[tokio::test]
async fn a_video_is_fingerprinted_in_the_browser_and_its_vpdq_matches_the_servers() {
    let Some(s) = session("video_hash_only_report").await else { return };
    let app = App::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A synthetic pattern (480×720, 6.9 s) and a natural scene ending in a fade (1280×720, 4 s).
    let videos = [webm(dir.path(), "pattern-sd-grey-bar"), webm(dir.path(), "doorknob-hd-no-bar")];
    s.goto(&app.url("/report/hashes?lang=en")).await;
    s.choose_files("#photos", &[videos[0].as_path(), videos[1].as_path()]).await;
    s.wait_text("#hash-status", "Fingerprints ready: 2").await;
    let table = s.text("#hash-table").await;
    let both = table.contains("Video: 7 fingerprinted pictures") && table.contains("Video: 4 fingerprinted pictures");
    assert!(both, "{table}");
    s.click("#what-intimate").await;
    s.fill("#name", "Sanne de Vries").await;
    s.fill("#email", "sanne@example.org").await;
    s.click("#good_faith").await;
    check_page(&s, "report-hashes-video").await;
    s.click("#send").await;
    assert!(s.attr("#tracking-link", "href").await.is_some(), "the report was filed");

    // What the browser sent, against what the server computes from the same file.
    let case = app.state.store().queue(10).await.unwrap().remove(0).case_id;
    let stored = app.state.store().case_videos(&case).await.unwrap();
    assert_eq!(stored.len(), 2);
    for video in &videos {
        let server = hash_file(video, &Sampling::default(), &Limits::default(), &Tools::default()).unwrap();
        let sha256 = hex::encode(server.sha256);
        let sent = stored
            .iter()
            .find(|v| v.sha256.as_deref() == Some(sha256.as_str()))
            .unwrap_or_else(|| panic!("{}: no stored video with the file's SHA-256", video.display()));
        let browser = staydown_vpdq::parse_vpdq_file(&sent.vpdq, 100).unwrap();
        assert_eq!(browser.len(), server.features.len(), "one frame per second on both sides");
        let mut distances = Vec::new();
        for (b, n) in browser.iter().zip(&server.features) {
            assert_eq!(b.timestamp, n.timestamp, "the same second");
            if n.quality >= 50 {
                let d = b.hash.hamming_distance(&n.hash);
                distances.push(d);
                assert!(d <= BROWSER_BOUND, "{} second {}: distance {d}", video.display(), n.timestamp);
                let (bq, nq) = (b.quality, n.quality);
                assert!(bq.abs_diff(nq) <= 10, "second {}: quality {bq} vs {nq}", n.timestamp);
            }
        }
        assert!(!distances.is_empty(), "{}: no frame of quality >= 50", video.display());
        println!("browser vs server vPDQ, {}: distances {distances:?} (quality >= 50)", video.display());
    }

    // No request carried the videos.
    for video in &videos {
        let bytes = std::fs::read(video).unwrap();
        let probe = &bytes[bytes.len() / 2..bytes.len() / 2 + 24];
        let seen = app.seen.lock().unwrap();
        for r in seen.iter() {
            assert!(!r.body.windows(probe.len()).any(|w| w == probe), "{} {} carried the video", r.method, r.path);
        }
    }

    // A reviewer confirms: the browser's vPDQ is banked as a video entry.
    remove_open_case(&app).await;
    let banked = app.state.store().bank_videos(VICTIM_SUBMITTED_BANK, 0, 10).await.unwrap();
    let mut frames: Vec<u32> = banked.iter().map(|b| b.frame_count).collect();
    frames.sort();
    assert_eq!(frames, [4, 7]);
    s.close().await;
}
