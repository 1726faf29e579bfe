//! Video stay-down (issue 17): a banked video is caught as a re-encoded, time-cropped and rescaled
//! copy, inside a compilation, and as a still; a video made from a banked image is caught; a
//! removal banks a video's vPDQ; over-bound videos are refused with problem+json.
//!
//! The test videos are made with the `ffmpeg` binary at test time from the reference's sample
//! video `fixtures/vpdq/videos/pattern-sd-grey-bar.mp4` (ThreatExchange `tmk/sample-videos`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_server::Settings;

use crate::support::{TestApp, each_backend, removal};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vpdq/videos").join(name)
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (.ci/run installs it)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Derived files, made once per test process.
struct Derived {
    _dir: tempfile::TempDir,
    /// Seconds 2–5 of the original, rescaled to 320 px wide, re-encoded at low quality.
    clip: PathBuf,
    /// 4 s of another video, the original (rescaled), 4 s of the other video again.
    compilation: PathBuf,
    /// The frame at 3 s, as PNG.
    still: PathBuf,
    /// The frame at 5 s, as PNG, and a 2 s video made of it.
    other_still: PathBuf,
    animated: PathBuf,
    /// An unrelated video.
    unrelated: PathBuf,
}

fn derived() -> Derived {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let original = fixture("pattern-sd-grey-bar.mp4");
    let other = fixture("doorknob-hd-no-bar.mp4");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (clip, compilation, still, other_still, animated, unrelated) = (
        p("clip.mp4"),
        p("compilation.mp4"),
        p("still.png"),
        p("other_still.png"),
        p("animated.mp4"),
        p("unrelated.mkv"),
    );
    ffmpeg(&[
        "-ss",
        "2",
        "-i",
        &s(&original),
        "-t",
        "3",
        "-vf",
        "scale=320:-2",
        "-c:v",
        "libx264",
        "-crf",
        "32",
        "-an",
        &s(&clip),
    ]);
    ffmpeg(&[
        "-i",
        &s(&other),
        "-i",
        &s(&original),
        "-i",
        &s(&other),
        "-filter_complex",
        "[0:v]scale=480:360,setsar=1,fps=30[a];[1:v]scale=480:360,setsar=1,fps=30[b];[2:v]scale=480:360,setsar=1,fps=30[c];[a][b][c]concat=n=3:v=1:a=0[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-crf",
        "23",
        &s(&compilation),
    ]);
    ffmpeg(&["-ss", "3", "-i", &s(&original), "-frames:v", "1", &s(&still)]);
    ffmpeg(&["-ss", "5", "-i", &s(&original), "-frames:v", "1", &s(&other_still)]);
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        &s(&other_still),
        "-t",
        "2",
        "-r",
        "25",
        "-vf",
        "scale=400:-2",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        &s(&animated),
    ]);
    ffmpeg(&["-i", &s(&other), "-c:v", "libx264", "-crf", "23", &s(&unrelated)]);
    Derived { _dir: dir, clip, compilation, still, other_still, animated, unrelated }
}

async fn screen_file(app: &TestApp, key: &str, field: &str, path: &Path) -> (u16, Value) {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let parts: [(&str, Option<&str>, &[u8]); 2] = [(field, Some(name), &bytes), ("content_id", None, b"upload-1")];
    app.post_multipart("/api/v1/screen", &parts, Some(key)).await
}

fn find<'a>(answer: &'a Value, hash: &str) -> Option<&'a Value> {
    answer["matches"].as_array()?.iter().find(|m| m["hash"] == hash)
}

#[tokio::test]
async fn a_banked_video_is_caught_as_a_clip_a_compilation_and_a_still() {
    let files = derived();
    each_backend(|app| {
        let files = &files;
        async move {
            let admin = app.key(Role::Admin, "Admin").await;
            let platform = app.key(Role::Platform, "Uploads").await;
            let reviewer = app.staff(Role::Reviewer, "ray").await;

            // The original, screened once (nothing banked yet), then banked by its vPDQ.
            let (status, first) = screen_file(&app, &platform, "video", &fixture("pattern-sd-grey-bar.mp4")).await;
            assert_eq!((status, first["verdict"].as_str()), (200, Some("allow")), "{first}");
            let vpdq = first["hashes"]["vpdq"].as_str().unwrap().to_owned();
            assert_eq!(vpdq.lines().count(), 7, "one frame per second of a 6.9 s video: {vpdq}");
            assert_eq!(first["video"]["info"]["container"], "mp4");
            assert_eq!(first["video"]["info"]["codec"], "h264");
            let (status, banked) = app
                .post("/api/v1/banks/confirmed/videos", &json!({"vpdq": vpdq, "reason": "case 1"}), Some(&admin))
                .await;
            assert_eq!(status, 201, "{banked}");
            assert_eq!(banked["frames"], 7);
            let entry = banked["id"].as_str().unwrap().to_owned();
            // The same vPDQ again is a conflict, not a second entry.
            let (status, _) = app.post("/api/v1/banks/confirmed/videos", &json!({"vpdq": vpdq}), Some(&admin)).await;
            assert_eq!(status, 409);

            // A re-encoded, time-cropped, rescaled copy: all its frames are in the banked video.
            let (status, clip) = screen_file(&app, &platform, "video", &files.clip).await;
            assert_eq!((status, clip["verdict"].as_str()), (200, Some("block")), "{clip}");
            let m = find(&clip, "vpdq").unwrap_or_else(|| panic!("no vpdq match: {clip}"));
            assert_eq!(m["entry_id"], entry.as_str());
            assert_eq!(m["query_match_pct"], 100.0, "{clip}");
            let banked_pct = m["banked_match_pct"].as_f64().unwrap();
            assert!((30.0..=60.0).contains(&banked_pct), "3 of 7 banked seconds: {clip}");
            let clip_case = clip["case_id"].as_str().unwrap().to_owned();

            // A compilation containing the whole video: the banked frames are all found in it,
            // while most of the compilation is something else.
            let (status, comp) = screen_file(&app, &platform, "video", &files.compilation).await;
            assert_eq!((status, comp["verdict"].as_str()), (200, Some("block")), "{comp}");
            let m = find(&comp, "vpdq").unwrap_or_else(|| panic!("no vpdq match: {comp}"));
            assert!(m["banked_match_pct"].as_f64().unwrap() >= 80.0, "{comp}");
            assert!(m["query_match_pct"].as_f64().unwrap() < 80.0, "{comp}");

            // The bank may switch the compilation direction off: then only clips are caught.
            let (status, t) = app
                .put(
                    "/api/v1/banks/confirmed/video-thresholds",
                    &json!({"query_pct": 80, "banked_pct": null}),
                    Some(&admin),
                )
                .await;
            assert_eq!(status, 200, "{t}");
            let (_, comp_off) = screen_file(&app, &platform, "video", &files.compilation).await;
            assert!(find(&comp_off, "vpdq").is_none(), "{comp_off}");
            let (_, clip_still) = screen_file(&app, &platform, "video", &files.clip).await;
            assert_eq!(clip_still["verdict"], "block");
            app.put(
                "/api/v1/banks/confirmed/video-thresholds",
                &json!({"query_pct": 80, "banked_pct": 80}),
                Some(&admin),
            )
            .await;

            // A still taken from the video, uploaded as an image.
            let (status, still) = screen_file(&app, &platform, "image", &files.still).await;
            assert_eq!((status, still["verdict"].as_str()), (200, Some("block")), "{still}");
            let m = find(&still, "video_frame").unwrap_or_else(|| panic!("no frame match: {still}"));
            assert_eq!(m["entry_id"], entry.as_str());
            assert_eq!(m["frame"], 90, "the banked frame at 3 s: {still}");

            // An unrelated video passes.
            let (status, fine) = screen_file(&app, &platform, "video", &files.unrelated).await;
            assert_eq!((status, fine["verdict"].as_str()), (200, Some("allow")), "{fine}");
            assert_eq!(fine["video"]["info"]["container"], "matroska");

            // The platform may send the vPDQ instead of the bytes.
            let clip_vpdq = clip["hashes"]["vpdq"].as_str().unwrap();
            let (status, by_hash) = app.post("/api/v1/screen", &json!({"vpdq": clip_vpdq}), Some(&platform)).await;
            assert_eq!((status, by_hash["verdict"].as_str()), (200, Some("block")), "{by_hash}");
            assert_eq!(find(&by_hash, "vpdq").unwrap()["query_match_pct"], 100.0);

            // A removal decision on the clip's case banks the vPDQ of each video on it (the
            // compilation joined the clip's case: both matched the same banked entry).
            let (status, d) =
                app.post(&format!("/api/v1/cases/{clip_case}/decision"), &removal(), Some(&reviewer)).await;
            assert_eq!(status, 201, "{d}");
            let (_, videos) = app.get("/api/v1/banks/confirmed/videos", Some(&admin)).await;
            let videos = videos.as_array().unwrap();
            assert_eq!(videos.len(), 3, "{videos:?}");
            assert!(videos.iter().any(|v| v["vpdq"] == clip_vpdq), "{videos:?}");
            assert!(videos.iter().any(|v| v["vpdq"] == comp["hashes"]["vpdq"]), "{videos:?}");
            // The clip comes back as the very same file: caught by the banked file digest too.
            let (_, again) = screen_file(&app, &platform, "video", &files.clip).await;
            assert_eq!(again["verdict"], "block");
            assert!(find(&again, "sha256").is_some(), "{again}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_video_made_from_a_banked_image_is_caught() {
    let files = derived();
    each_backend(|app| {
        let files = &files;
        async move {
            let admin = app.key(Role::Admin, "Admin").await;
            let platform = app.key(Role::Platform, "Uploads").await;
            // Bank the image by screening it once and taking its PDQ.
            let (_, image) = screen_file(&app, &platform, "image", &files.other_still).await;
            let pdq = image["hashes"]["pdq"].as_str().unwrap();
            let (status, e) = app
                .post(
                    "/api/v1/banks/victim-submitted/entries",
                    &json!({"pdq": pdq, "quality": image["hashes"]["pdq_quality"]}),
                    Some(&admin),
                )
                .await;
            assert_eq!(status, 201, "{e}");
            let (status, anim) = screen_file(&app, &platform, "video", &files.animated).await;
            assert_eq!((status, anim["verdict"].as_str()), (200, Some("hold")), "{anim}");
            let m = find(&anim, "video_frame").unwrap_or_else(|| panic!("no frame match: {anim}"));
            assert_eq!(m["entry_id"], e["id"]);
            assert!(m["distance"].as_u64().unwrap() <= 31);
        }
    })
    .await;
}

#[tokio::test]
async fn videos_over_a_bound_are_refused_with_a_problem() {
    for backend in staydown_testkit::backends().await {
        let mut settings = Settings::default();
        settings.video.max_bytes = 100_000;
        settings.video.limits.max_duration_s = 3.0;
        let app = TestApp::start_with(backend, settings).await;
        let platform = app.key(Role::Platform, "Uploads").await;
        // Over the byte bound (the 1 MB original): 413, problem+json.
        let (status, problem) = screen_file(&app, &platform, "video", &fixture("pattern-sd-grey-bar.mp4")).await;
        assert_eq!(status, 413, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("100000"), "{problem}");
        // Under the bytes but over the duration bound (the 56 KB, 5 s clip): 422 on `video`.
        let (status, problem) = screen_file(&app, &platform, "video", &fixture("test-padded-dimensions.mp4")).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "video");
        assert_eq!(problem["errors"][0]["code"], "too_long", "{problem}");
        // Not a video at all.
        let (status, problem) = app
            .post_multipart(
                "/api/v1/screen",
                &[("video", Some("x.mp4"), b"#EXTM3U\nfile:///etc/passwd\n")],
                Some(&platform),
            )
            .await;
        assert_eq!((status, problem["errors"][0]["code"].as_str()), (422, Some("unsupported_format")), "{problem}");
        // A malformed vPDQ sent as JSON names the line.
        let (status, problem) = app.post("/api/v1/screen", &json!({"vpdq": "0,100,zz,0.0"}), Some(&platform)).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("vpdq")), "{problem}");
    }
}

/// A hash-only notice may carry a video's vPDQ (issue 17): the victim reports the video by its
/// fingerprint, a removal banks it in the victim-submitted bank, a re-encoded clip of it is then
/// held, and withdrawing the report takes the video entry out again. A malformed vPDQ, or one
/// mixed with an image PDQ in the same set, is a field error.
#[tokio::test]
async fn a_hash_only_notice_carries_a_vpdq_that_a_removal_banks() {
    let files = derived();
    each_backend(|app| {
        let files = &files;
        async move {
            let platform = app.key(Role::Platform, "Uploads").await;
            let reviewer = app.key(Role::Reviewer, "ray").await;
            let (status, first) = screen_file(&app, &platform, "video", &fixture("pattern-sd-grey-bar.mp4")).await;
            assert_eq!((status, first["verdict"].as_str()), (200, Some("allow")), "{first}");
            let vpdq = first["hashes"]["vpdq"].as_str().unwrap().to_owned();
            let sha256 = first["hashes"]["sha256"].as_str().unwrap().to_owned();
            let report = |hashes: Value| {
                json!({
                    "hashes": hashes,
                    "explanation": "A video of me that someone threatens to post.",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
                    "notifier": {"name": "Test Person", "email": "test.person@example.org"},
                    "good_faith": true
                })
            };

            for (bad, field) in [
                (json!([{"vpdq": "0,100,zz,0.000"}]), "hashes[0].vpdq"),
                (json!([{"vpdq": vpdq, "pdq": "f".repeat(64)}]), "hashes[0].vpdq"),
                (json!([{"vpdq": "  "}]), "hashes[0]"),
            ] {
                let (status, problem) = app.post("/api/v1/notices", &report(bad), None).await;
                assert_eq!(status, 422, "{problem}");
                assert!(crate::support::error_fields(&problem).contains(&field.to_owned()), "{field}: {problem}");
            }

            let receipt = app.file(&report(json!([{"vpdq": vpdq, "sha256": sha256}])), None).await;
            let (id, token) = (receipt["id"].as_str().unwrap(), receipt["tracking_token"].as_str().unwrap());

            // Before the decision nothing is banked: the clip passes.
            let (_, before) = screen_file(&app, &platform, "video", &files.clip).await;
            assert_eq!(before["verdict"], "allow", "{before}");

            let case = app.store().queue(10).await.unwrap().remove(0).case_id;
            // Staff see the set as a video of 7 frames with the file's digest.
            let notices = app.store().case_notices(&case).await.unwrap();
            assert_eq!(notices[0].hashes[0]["vpdq_frames"], 7, "{:?}", notices[0].hashes);
            assert_eq!(notices[0].hashes[0]["sha256"], sha256.as_str());
            let (status, d) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
            assert_eq!(status, 201, "{d}");
            let bank = staydown_domain::bank::VICTIM_SUBMITTED_BANK;
            let videos = app.store().bank_videos(bank, 0, 100).await.unwrap();
            assert_eq!(videos.len(), 1, "one video entry, its digest not banked again as an image entry");
            assert_eq!(videos[0].vpdq, vpdq);
            assert_eq!(videos[0].entry.sha256.as_deref(), Some(sha256.as_str()));
            let images = app.store().bank_entries(bank, 0, 100).await.unwrap();
            assert!(images.iter().all(|e| e.id == videos[0].entry.id), "{images:?}");

            let (status, clip) = screen_file(&app, &platform, "video", &files.clip).await;
            // The victim-submitted bank holds for review (its action), rather than blocking.
            assert_eq!((status, clip["verdict"].as_str()), (200, Some("hold")), "{clip}");
            assert_eq!(find(&clip, "vpdq").unwrap()["entry_id"], videos[0].entry.id.as_str(), "{clip}");

            // The victim withdraws the report: the video entry goes, and the clip passes again.
            let binding = "0123456789abcdef0123456789abcdef";
            let done = app
                .client
                .post(format!("{}/track/{id}/withdraw", app.base))
                .header("cookie", format!("{}={binding}", staydown_server::pages::csrf::COOKIE))
                .form(&[
                    ("csrf", staydown_server::pages::csrf::token(binding)),
                    ("token", token.to_owned()),
                    ("confirm", "yes".to_owned()),
                ])
                .send()
                .await
                .unwrap();
            assert!(done.status().is_success(), "{}", done.status());
            assert!(app.store().bank_videos(bank, 0, 100).await.unwrap().is_empty());
            let (_, after) = screen_file(&app, &platform, "video", &files.clip).await;
            assert_eq!(after["verdict"], "allow", "{after}");
        }
    })
    .await;
}
