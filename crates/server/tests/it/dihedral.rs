//! Rotated and mirrored re-uploads (issue 14): banks with `dihedral` on match the eight dihedral
//! PDQ variants of an upload, and the match names the transform and distance.
//!
//! Fixtures: `fixtures/media/orientation-{1..8}.jpg`, one photo stored with each EXIF
//! orientation (pixels turned so that a viewer applying the tag shows it upright), made by
//! `fixtures/media/make.py`; `orientation.csv` has the PDQ (Meta's core through `pdqhash`) of the
//! upright picture, which is what a tool that applies the tag hashes (staydown's own browser
//! form hashes the stored pixels, as the server does: `browser::dihedral`).

use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::support::{TestApp, each_backend};

fn media(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// (file, orientation tag, PDQ of the upright picture).
fn orientations() -> Vec<(String, u8, String)> {
    let text = String::from_utf8(media("orientation.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].parse().unwrap(), f[2].to_owned())
        })
        .collect()
}

async fn upload(app: &TestApp, platform: &str, file: &str) -> Value {
    let image = media(file);
    let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some(file), &image)];
    let (status, answer) = app.post_multipart("/api/v1/screen", &parts, Some(platform)).await;
    assert_eq!(status, 200, "[{:?}] {file}: {answer}", app.backend);
    answer
}

#[tokio::test]
async fn a_photo_matches_the_victims_hash_whatever_its_exif_orientation() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let rows = orientations();
        let upright = rows[0].2.clone();
        // The seeded banks match rotations and mirror images; a new external list does not.
        let (_, banks) = app.get("/api/v1/banks", Some(&admin)).await;
        let dihedral =
            |name: &str| banks.as_array().unwrap().iter().find(|b| b["name"] == name).map(|b| b["dihedral"].clone());
        assert_eq!(dihedral("victim-submitted"), Some(json!(true)), "{banks}");
        assert_eq!(dihedral("confirmed"), Some(json!(true)));
        let (status, list) =
            app.post("/api/v1/banks", &json!({"name": "external", "action": "flag"}), Some(&admin)).await;
        assert_eq!((status, &list["dihedral"]), (201, &json!(false)), "{list}");

        // The victim's hash is of the upright picture (a tool that applies EXIF orientation).
        for bank in ["victim-submitted", "external"] {
            let (status, e) = app
                .post(&format!("/api/v1/banks/{bank}/entries"), &json!({"pdq": upright, "quality": 100}), Some(&admin))
                .await;
            assert_eq!(status, 201, "{e}");
        }
        let expected_transform = |tag: u8| match tag {
            1 => None,
            2 => Some("flip_y"),
            3 => Some("rotate180"),
            4 => Some("flip_x"),
            5 => Some("flip_plus1"),
            6 => Some("rotate270"),
            7 => Some("flip_minus1"),
            _ => Some("rotate90"),
        };
        for (file, tag, _) in &rows {
            let answer = upload(&app, &platform, file).await;
            let matches = answer["matches"].as_array().unwrap();
            let victim = matches.iter().find(|m| m["bank"] == "victim-submitted");
            let victim = victim.unwrap_or_else(|| panic!("[{:?}] orientation {tag}: no match: {answer}", app.backend));
            assert_eq!(answer["verdict"], "hold", "{answer}");
            assert_eq!(victim["transform"].as_str(), expected_transform(*tag), "orientation {tag}: {victim}");
            let distance = victim["distance"].as_u64().unwrap();
            assert!(distance <= 16, "orientation {tag}: distance {distance}");
            // Without dihedral matching only the upright file matches.
            let external = matches.iter().any(|m| m["bank"] == "external");
            assert_eq!(external, *tag == 1, "orientation {tag}: {answer}");
        }
    })
    .await;
}

#[tokio::test]
async fn hash_only_queries_match_rotations_when_they_send_the_variants() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        // The bank holds the rotated photo; the query is the original with its eight variants.
        let rotated = staydown_media::hash_image_bytes(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/pdq/lossless/reg-test-input__dih__bridge-2-rotate-90.png"
            ))
            .unwrap(),
            &staydown_media::DecodeLimits::default(),
        )
        .unwrap();
        let original = staydown_media::hash_image_bytes(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/pdq/lossless/reg-test-input__dih__bridge-1-original.png"
            ))
            .unwrap(),
            &staydown_media::DecodeLimits::default(),
        )
        .unwrap();
        let (status, _) = app
            .post(
                "/api/v1/banks/confirmed/entries",
                &json!({"pdq": rotated.pdq.to_hex(), "quality": 100}),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 201);
        let plain = json!({"pdq": original.pdq.to_hex(), "pdq_quality": original.quality});
        let (_, answer) = app.post("/api/v1/screen", &plain, Some(&platform)).await;
        assert_eq!(answer["verdict"], "allow", "without the variants a rotation is not seen: {answer}");
        let variants: Vec<String> = original.dihedral.to_array().iter().map(|h| h.to_hex()).collect();
        let with = json!({"pdq": original.pdq.to_hex(), "pdq_quality": original.quality, "pdq_dihedral": variants});
        let (_, answer) = app.post("/api/v1/screen", &with, Some(&platform)).await;
        assert_eq!(answer["verdict"], "block", "{answer}");
        assert_eq!(answer["matches"][0]["transform"], "rotate90", "{answer}");
        // The case's notice says how it matched.
        let reviewer = app.key(Role::Reviewer, "R").await;
        let (_, case) =
            app.get(&format!("/api/v1/cases/{}", answer["case_id"].as_str().unwrap()), Some(&reviewer)).await;
        assert!(case.to_string().contains("of the upload rotate90"), "{case}");

        let bad = json!({"pdq": original.pdq.to_hex(), "pdq_dihedral": ["00".repeat(32)]});
        let (status, problem) = app.post("/api/v1/screen", &bad, Some(&platform)).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("pdq_dihedral")), "{problem}");
    })
    .await;
}

#[tokio::test]
async fn a_banks_dihedral_setting_can_change_after_creation() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let rows = orientations();
        let (file, tag, upright) = rows.iter().find(|r| r.1 == 6).cloned().unwrap();
        let (status, bank) =
            app.post("/api/v1/banks", &json!({"name": "external", "action": "flag"}), Some(&admin)).await;
        assert_eq!((status, &bank["dihedral"]), (201, &json!(false)), "{bank}");
        let (status, e) =
            app.post("/api/v1/banks/external/entries", &json!({"pdq": upright, "quality": 100}), Some(&admin)).await;
        assert_eq!(status, 201, "{e}");
        let external =
            |answer: &Value| answer["matches"].as_array().unwrap().iter().find(|m| m["bank"] == "external").cloned();
        assert_eq!(external(&upload(&app, &platform, &file).await), None, "orientation {tag}, dihedral off");

        let (status, bank) = app.patch("/api/v1/banks/external", &json!({"dihedral": true}), Some(&admin)).await;
        assert_eq!((status, &bank["dihedral"]), (200, &json!(true)), "[{:?}] {bank}", app.backend);
        let (_, listed) = app.get("/api/v1/banks/external", Some(&admin)).await;
        assert_eq!(listed["dihedral"], json!(true), "{listed}");
        let answer = upload(&app, &platform, &file).await;
        let hit =
            external(&answer).unwrap_or_else(|| panic!("[{:?}] no match after dihedral on: {answer}", app.backend));
        assert_eq!(hit["transform"], "rotate270", "{hit}");

        let (status, bank) = app.patch("/api/v1/banks/external", &json!({"dihedral": false}), Some(&admin)).await;
        assert_eq!((status, &bank["dihedral"]), (200, &json!(false)), "{bank}");
        assert_eq!(external(&upload(&app, &platform, &file).await), None, "dihedral off again");

        let audit = app.store().audit_for("bank:external").await.unwrap();
        let changes: Vec<_> = audit.iter().filter(|a| a.action == "bank.dihedral_set").collect();
        assert_eq!(changes.len(), 2, "{audit:?}");
        assert!(app.store().verify_audit().await.unwrap().broken.is_none());

        // Bad requests change nothing and say why.
        let (status, problem) = app.patch("/api/v1/banks/external", &json!({}), Some(&admin)).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("dihedral")), "{problem}");
        let (status, _) = app.patch("/api/v1/banks/external", &json!({"dihedral": "yes"}), Some(&admin)).await;
        assert!((400..500).contains(&status), "{status}");
        let (status, _) = app.patch("/api/v1/banks/external", &json!({"threshold": 10}), Some(&admin)).await;
        assert!((400..500).contains(&status), "{status}");
        let (status, _) = app.patch("/api/v1/banks/nope", &json!({"dihedral": true}), Some(&admin)).await;
        assert_eq!(status, 404);
        let (status, _) = app.patch("/api/v1/banks/external", &json!({"dihedral": true}), Some(&platform)).await;
        assert_eq!(status, 403);
        let (_, listed) = app.get("/api/v1/banks/external", Some(&admin)).await;
        assert_eq!(listed["dihedral"], json!(false), "{listed}");
    })
    .await;
}
