use std::io::Cursor;
use std::path::Path;

use staydown_domain::bank::VICTIM_SUBMITTED_BANK;
use staydown_media::{DecodeLimits, hash_image_bytes};

use crate::app::{App, check_page, session};
use crate::follow::remove_open_case;

/// A TIFF block with one IFD entry: Orientation (0x0112) = `orientation`.
fn tiff_orientation(orientation: u8) -> Vec<u8> {
    let mut t = b"MM\0*\0\0\0\x08".to_vec();
    t.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
    t
}

/// An asymmetric test picture (so that rotating it would change its PDQ hash).
fn picture() -> image::RgbImage {
    image::RgbImage::from_fn(96, 64, |x, y| {
        let v = if x < 30 && y < 20 { 250 } else { ((x * 3 + y * 5) % 200) as u8 };
        image::Rgb([v, (x * 2) as u8, (255 - y * 3) as u8])
    })
}

/// A JPEG carrying EXIF Orientation = 6 (as a phone held upright writes it).
fn jpeg_orientation_6() -> Vec<u8> {
    let mut plain = Vec::new();
    picture().write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff_orientation(6));
    let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend(app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG with an `eXIf` chunk saying Orientation = 6, before the image data.
fn png_exif_orientation_6() -> Vec<u8> {
    let mut plain = Vec::new();
    picture().write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Png).unwrap();
    let idat = plain.windows(4).position(|w| w == b"IDAT").unwrap() - 4;
    let data = tiff_orientation(6);
    let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut typed = b"eXIf".to_vec();
    typed.extend(&data);
    chunk.extend(&typed);
    chunk.extend(crc32fast::hash(&typed).to_be_bytes());
    let mut out = plain[..idat].to_vec();
    out.extend(chunk);
    out.extend_from_slice(&plain[idat..]);
    out
}

#[tokio::test]
async fn hash_only_report_sends_the_server_hashes_and_never_the_photos_then_is_withdrawn() {
    let Some(s) = session("hash_only_report").await else { return };
    let app = App::start().await;
    let dir = tempfile::tempdir().unwrap();
    let files = [("upright.jpg", jpeg_orientation_6()), ("upright.png", png_exif_orientation_6())];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    s.goto(&app.url("/report/hashes?lang=en")).await;
    check_page(&s, "report-hashes").await;
    let paths: Vec<_> = files.iter().map(|(n, _)| dir.path().join(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    s.choose_files("#photos", &refs).await;
    s.wait_text("#hash-status", "Fingerprints ready: 2").await;
    assert!(s.text("#hash-table").await.contains("upright.jpg"));
    s.click("#what-intimate").await;
    s.fill("#name", "Sanne de Vries").await;
    s.fill("#email", "sanne@example.org").await;
    s.click("#good_faith").await;
    check_page(&s, "report-hashes-ready").await;
    s.click("#send").await;
    let tracking = s.attr("#tracking-link", "href").await.expect("tracking link");

    // The server stored exactly the hashes `staydown hash` computes for the files (same decoder:
    // EXIF orientation is not applied, in JPEG nor in PNG eXIf).
    let case = app.state.store().queue(10).await.unwrap().remove(0).case_id;
    let notices = app.state.store().case_notices(&case).await.unwrap();
    let stored = &notices[0].hashes;
    assert_eq!(stored.len(), 2);
    for (i, (name, bytes)) in files.iter().enumerate() {
        let native = hash_image_bytes(bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(stored[i]["pdq"], native.pdq.to_hex(), "{name} PDQ");
        assert_eq!(stored[i]["sha256"], native.sha256_hex(), "{name} SHA-256");
        assert_eq!(stored[i]["md5"], native.md5_hex(), "{name} MD5");
        // And the orientation really is ignored: a rotated decode would hash differently.
        let rotated = image::load_from_memory(bytes).unwrap().rotate90().to_rgb8();
        let mut rotated_png = Vec::new();
        rotated.write_to(&mut Cursor::new(&mut rotated_png), image::ImageFormat::Png).unwrap();
        let r = hash_image_bytes(&rotated_png, &DecodeLimits::default()).unwrap();
        assert!(r.pdq.hamming_distance(&native.pdq) > 60, "{name}: rotation must change the hash");
    }
    // No request carried the photos: every body is small and holds no run of the files' bytes.
    {
        let seen = app.seen.lock().unwrap();
        assert!(seen.iter().any(|r| r.method == "POST" && r.path == "/report/hashes"));
        for r in seen.iter() {
            assert!(r.body.len() < 4096, "{} {} sent {} bytes", r.method, r.path, r.body.len());
            for (name, bytes) in &files {
                let probe = &bytes[bytes.len() / 2..bytes.len() / 2 + 24];
                assert!(!r.body.windows(probe.len()).any(|w| w == probe), "{} {} carried {name}", r.method, r.path);
            }
        }
    }

    // Confirmed by a reviewer: the hashes feed the victim-submitted bank.
    remove_open_case(&app).await;
    let entries = app.state.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.removed_at.is_none()).count(), 2, "{entries:?}");
    // Withdraw from the tracking page: the hashes leave the bank, audited.
    s.goto(&tracking).await;
    check_page(&s, "tracking-hash-only").await;
    s.click("#withdraw").await;
    // Withdrawing cannot be undone, so the page asks first; nothing has changed yet.
    assert!(s.text("#withdraw-confirm").await.contains("Are you sure?"));
    check_page(&s, "tracking-withdraw-confirm").await;
    let entries = app.state.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.removed_at.is_none()).count(), 2, "{entries:?}");
    s.click("#withdraw-yes").await;
    assert!(s.text("#flash").await.contains("withdrawn"));
    assert!(s.text("#timeline").await.contains("Report withdrawn"), "the timeline ends with the withdrawal");
    assert_eq!(s.text("#status").await, "Withdrawn by you");
    assert!(!s.exists("#withdraw").await);
    let entries = app.state.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap();
    assert!(entries.iter().all(|e| e.removed_at.is_some()), "{entries:?}");
    let id = tracking.split("/track/").nth(1).unwrap().split('?').next().unwrap();
    let audit = app.state.store().audit_for(&format!("notice:{id}")).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "notice.withdrawn"), "{audit:?}");
    s.close().await;
}
