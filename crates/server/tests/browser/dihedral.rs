//! A photo reported by fingerprint in the browser is held whatever its orientation (issue 14).
//!
//! The victim's phone wrote the photo with EXIF orientation 6 (`fixtures/media/orientation-6.jpg`,
//! made by `fixtures/media/make.py`); the browser hashes the stored pixels with the server's own
//! decoder in WebAssembly, as the server does. Once a reviewer confirms the report, the hash is in
//! the victim-submitted bank (`dihedral` on). Every other way the same photo can arrive — the
//! seven other EXIF orientations, and copies with the pixels really turned or mirrored, as
//! platforms and editors save them — is screened through the API and held, the match naming the
//! transform. The page's WebAssembly also gives the eight dihedral variants, equal to the native
//! ones, in the form `POST /api/v1/screen` takes as `pdq_dihedral`.

use std::io::Cursor;
use std::path::PathBuf;

use serde_json::{Value, json};
use staydown_domain::bank::VICTIM_SUBMITTED_BANK;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_media::{DecodeLimits, hash_image_bytes};

use crate::app::{App, session};
use crate::follow::remove_open_case;

fn media(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media").join(name).canonicalize().unwrap()
}

async fn key(app: &App, role: Role) -> String {
    let (id, key) = staydown_server::auth::generate_api_key();
    app.state.store().create_api_key(&id, "key", role, &secret_digest(&key), app.state.now()).await.unwrap();
    key
}

/// `POST /api/v1/screen` with the file as a platform uploads it.
async fn screen(app: &App, key: &str, name: &str, bytes: &[u8]) -> Value {
    let boundary = "browser-dihedral-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/screen"))
        .bearer_auth(key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{name}: {answer}");
    answer
}

/// The victim-submitted match of a screening answer, if any.
fn victim_match(answer: &Value) -> Option<Value> {
    answer["matches"].as_array()?.iter().find(|m| m["bank"] == VICTIM_SUBMITTED_BANK).cloned()
}

/// The photo with its pixels turned or mirrored (EXIF orientation not used), saved as PNG.
fn pixel_copies(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let img = image::load_from_memory(bytes).unwrap();
    let turned = [
        ("as-stored", img.clone()),
        ("rotate90", img.rotate90()),
        ("rotate180", img.rotate180()),
        ("rotate270", img.rotate270()),
        ("flip-horizontal", img.fliph()),
        ("flip-vertical", img.flipv()),
        ("transpose", img.rotate90().fliph()),
        ("transverse", img.rotate270().fliph()),
    ];
    turned
        .into_iter()
        .map(|(name, img)| {
            let mut png = Vec::new();
            img.to_rgb8().write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
            (format!("{name}.png"), png)
        })
        .collect()
}

#[tokio::test]
async fn a_photo_reported_by_fingerprint_is_held_in_every_orientation() {
    let Some(s) = session("dihedral_report").await else { return };
    let app = App::start().await;
    let photo = std::fs::read(media("orientation-6.jpg")).unwrap();
    let native = hash_image_bytes(&photo, &DecodeLimits::default()).unwrap();

    // The victim reports the photo by fingerprint; the photo stays on the device.
    s.goto(&app.url("/report/hashes?lang=en")).await;
    s.choose_files("#photos", &[media("orientation-6.jpg").as_path()]).await;
    s.wait_text("#hash-status", "Fingerprints ready: 1").await;
    s.click("#what-intimate").await;
    s.fill("#name", "Sanne de Vries").await;
    s.fill("#email", "sanne@example.org").await;
    s.click("#good_faith").await;
    s.click("#send").await;
    assert!(s.attr("#tracking-link", "href").await.is_some(), "the report was received");

    // The same WebAssembly module gives the eight dihedral variants in the browser, equal to the
    // server's (and so to Meta's reference, which the native ones are tested against).
    let script = r"
        const [bytes, done] = arguments;
        import('/static/pdq/staydown_pdq_wasm.js')
          .then(async (m) => {
            await m.default({ module_or_path: '/static/pdq/staydown_pdq_wasm_bg.wasm' });
            const h = m.hashFile(new Uint8Array(bytes));
            done({ pdq: h.pdq, dihedral: h.dihedral });
          })
          .catch((e) => done({ error: String(e) }));";
    let in_browser = s.client.execute_async(script, vec![json!(photo)]).await.unwrap();
    let variants: Vec<String> = native.dihedral.to_array().iter().map(|h| h.to_hex()).collect();
    assert_eq!(in_browser["pdq"], native.pdq.to_hex(), "{in_browser}");
    assert_eq!(in_browser["dihedral"], json!(variants), "{in_browser}");

    // A reviewer confirms: the browser's hash is what the victim-submitted bank now holds.
    remove_open_case(&app).await;
    let entries = app.state.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 10).await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].pdq.as_deref(), Some(native.pdq.to_hex().as_str()), "{entries:?}");

    let platform = key(&app, Role::Platform).await;
    let mut copies: Vec<(String, Vec<u8>)> = (1..=8)
        .map(|tag| format!("orientation-{tag}.jpg"))
        .map(|n| (n.clone(), std::fs::read(media(&n)).unwrap()))
        .collect();
    copies.extend(pixel_copies(&photo));
    let mut transforms = std::collections::BTreeSet::new();
    for (name, bytes) in &copies {
        let answer = screen(&app, &platform, name, bytes).await;
        let hit = victim_match(&answer).unwrap_or_else(|| panic!("{name}: not matched: {answer}"));
        assert_eq!(answer["verdict"], "hold", "{name}: {answer}");
        if hit["hash"] == "sha256" {
            // The reported file itself, byte for byte.
            assert_eq!(name, "orientation-6.jpg", "{hit}");
            continue;
        }
        assert_eq!(hit["hash"], "pdq", "{name}: {hit}");
        let distance = hit["distance"].as_u64().unwrap_or_else(|| panic!("{name}: {hit}"));
        assert!(distance <= 16, "{name}: distance {distance}");
        transforms.insert(hit["transform"].as_str().unwrap_or("none").to_owned());
        if name == "as-stored.png" {
            assert_eq!(hit["transform"], Value::Null, "{name}: the reported pixels as they are: {hit}");
        }
    }
    // Every one of the eight orientations was needed to match some copy.
    assert_eq!(transforms.len(), 8, "{transforms:?}");

    // Without dihedral matching on the bank, the turned copies are not seen (the test can fail).
    let admin = key(&app, Role::Admin).await;
    let r = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/banks/{VICTIM_SUBMITTED_BANK}")))
        .bearer_auth(&admin)
        .json(&json!({"dihedral": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (name, bytes) = &copies[0];
    assert_eq!(victim_match(&screen(&app, &platform, name, bytes).await), None, "{name} with dihedral off");
    s.close().await;
}
