//! Uploaded images are bounded by what they hold and by the server's decode memory budget
//! (issue 15): each hostile JPEG of `staydown_testkit::hostile` gets a 422 naming its reason, an
//! image needing more than the whole budget is refused before decoding, and a decode that runs
//! past the timeout answers `too_slow` and gives its reservation back.

use std::time::{Duration, Instant};

use staydown_domain::roles::Role;
use staydown_server::Settings;
use staydown_testkit::{backends, hostile};

use crate::support::TestApp;

async fn refused(app: &TestApp, key: &str, bytes: &[u8]) -> (u16, String, String) {
    let (status, problem) = app.post_multipart("/api/v1/screen", &[("image", Some("x.jpg"), bytes)], Some(key)).await;
    let error = &problem["errors"][0];
    (
        status,
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn hostile_jpegs_get_a_422_with_their_reason() {
    for backend in backends().await {
        let settings = Settings { screen_decode_memory: 32 << 20, ..Settings::default() };
        let app = TestApp::start_with(backend, settings).await;
        let key = app.key(Role::Platform, "Uploads").await;
        let small = hostile::flat_jpeg(64, 64, 1);
        let (status, answer) =
            app.post_multipart("/api/v1/screen", &[("image", Some("x.jpg"), &small)], Some(&key)).await;
        assert_eq!(status, 200, "{answer}");

        // 693 bytes declaring 10000 × 10000 used to decode to grey and answer `allow`.
        let bomb = hostile::declaring(&small, 10_000, 10_000);
        let (status, code, message) = refused(&app, &key, &bomb).await;
        assert_eq!((status, code.as_str()), (422, "data_too_short"), "{backend:?}: {message}");
        assert!(message.contains("10000×10000"), "{message}");

        let scans = hostile::flat_jpeg(256, 256, 40);
        let (status, code, message) = refused(&app, &key, &scans).await;
        assert_eq!((status, code.as_str()), (422, "too_many_scans"), "{message}");

        let photo =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pdq/bridge-mods/aaa-orig.jpg")).unwrap();
        let (status, code, message) = refused(&app, &key, &hostile::truncated(&photo, 0.6)).await;
        assert_eq!((status, code.as_str()), (422, "truncated"), "{message}");

        // 4000 × 3000 greyscale needs 48 MB (grey + RGB); the budget here is 32 MiB.
        let big = hostile::flat_jpeg(4000, 3000, 1);
        let (status, code, message) = refused(&app, &key, &big).await;
        assert_eq!((status, code.as_str()), (422, "too_much_memory"), "{message}");
        assert_eq!(app.state.decode_budget().available_bytes(), 32 << 20, "a refusal reserved nothing");
    }
}

#[tokio::test]
async fn a_timed_out_decode_answers_too_slow_and_gives_its_budget_back() {
    for backend in backends().await {
        let settings = Settings {
            screen_decode_memory: 256 << 20,
            screen_decode_timeout: Duration::from_millis(1),
            ..Settings::default()
        };
        let app = TestApp::start_with(backend, settings).await;
        let key = app.key(Role::Platform, "Uploads").await;
        // 36 Mpx: far more than a millisecond of work.
        let big = hostile::flat_jpeg(6000, 6000, 1);
        let (status, code, message) = refused(&app, &key, &big).await;
        assert_eq!((status, code.as_str()), (422, "too_slow"), "{backend:?}: {message}");
        // The reservation is held until the blocking task has stopped and freed its buffers.
        let budget = app.state.decode_budget();
        let deadline = Instant::now() + Duration::from_secs(60);
        while budget.available_bytes() != budget.total_bytes() {
            assert!(Instant::now() < deadline, "the timed-out decode never gave its budget back");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// WebP, GIF, BMP and HEIF bounds through the API (issue 15): a lossless WebP, a GIF screen, an
/// RLE bitmap and a HEIF image each declaring far more than their bytes can fill, a GIF of 1001
/// frames, and a WebP and a BMP cut short: each a 422 naming its reason, nothing reserved.
#[tokio::test]
async fn hostile_webp_gif_bmp_and_heif_get_a_422_with_their_reason() {
    for backend in backends().await {
        let settings = Settings { screen_decode_memory: 32 << 20, ..Settings::default() };
        let app = TestApp::start_with(backend, settings).await;
        let key = app.key(Role::Platform, "Uploads").await;
        let small_gif = hostile::gif_screen(16, 16, 1);
        let (status, answer) =
            app.post_multipart("/api/v1/screen", &[("image", Some("x.gif"), &small_gif)], Some(&key)).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");

        let cases: [(&str, Vec<u8>, &str); 7] = [
            ("lossless WebP", hostile::riff(&[(b"VP8L", hostile::vp8l(16384, 6000, 40))]), "data_too_short"),
            ("GIF screen", hostile::gif_screen(10_000, 10_000, 1), "data_too_short"),
            ("GIF frames", hostile::gif_screen(2, 2, 1001), "too_many_frames"),
            ("RLE8 bitmap", hostile::bmp8(10_000, 10_000, 1, &[0, 1]), "data_too_short"),
            ("HEIF", hostile::heif_declaring(20_000, 5_000, 16), "data_too_short"),
            ("cut WebP", hostile::riff(&[(b"VP8L", hostile::vp8l(64, 64, 400))])[..200].to_vec(), "truncated"),
            ("cut BMP", hostile::bmp8(64, 64, 0, &[0; 64 * 63]), "truncated"),
        ];
        for (what, bytes, reason) in cases {
            let (status, code, message) = refused(&app, &key, &bytes).await;
            assert_eq!((status, code.as_str()), (422, reason), "{backend:?} {what}: {message}");
            assert_eq!(app.state.decode_budget().available_bytes(), 32 << 20, "{what}: a refusal reserved nothing");
        }
    }
}
