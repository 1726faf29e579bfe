//! Issue 14: canary prompts in every container staydown reads (`fixtures/media/canary.*`, made by
//! `fixtures/media/make.py`: PNG text/iTXt/zTXt/eXIf/XMP, JPEG and WebP EXIF/XMP, HEIC and AVIF
//! EXIF/XMP items, C2PA claim/actions/custom assertion) never reach any output: the screening
//! answer, the stored screening and content item, the case view, the statistics and the
//! transparency report. (`staydown hash` / `staydown provenance`: crates/staydown/tests.)

use serde_json::json;
use staydown_domain::roles::Role;
use staydown_store::Period;
use time::macros::date;

use crate::support::each_backend;

const CANARIES: [&str; 3] = ["janecanaryperson", "canaryq7z", "canary_lora_v2"];

fn assert_clean(what: &str, text: &str) {
    let text = text.to_lowercase();
    for canary in CANARIES {
        assert!(!text.contains(canary), "{what}: {canary} leaked: {text}");
    }
}

#[tokio::test]
async fn canary_prompts_reach_no_answer_store_view_or_report() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let reviewer = app.key(Role::Reviewer, "R").await;
        let dir = format!("{}/../../fixtures/media", env!("CARGO_MANIFEST_DIR"));
        let files = ["canary.png", "canary.jpg", "canary.webp", "canary.heic", "canary.avif", "canary-c2pa.jpg"];
        let mut cases = Vec::new();
        for file in files {
            let image = std::fs::read(format!("{dir}/{file}")).unwrap();
            let parts: [(&str, Option<&str>, &[u8]); 2] = [("image", Some(file), &image), ("content_id", None, b"c")];
            // First screening: allow, answer only. Then bank its SHA-256 so the second one holds
            // and stores a screening, a content item and a case.
            let (status, first) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
            assert_eq!(status, 200, "[{:?}] {file}: {first}", app.backend);
            assert_clean(file, &first.to_string());
            // The metadata was read, not skipped: every canary file's EXIF or text gives signals
            // (HEIC and AVIF through their EXIF/XMP items), only their values are clean.
            let signals = first["provenance"]["signals"].as_array().map_or(0, Vec::len);
            assert!(signals > 0, "[{:?}] {file}: no provenance signal read: {first}", app.backend);
            let (status, _) = app
                .post(
                    "/api/v1/banks/victim-submitted/entries",
                    &json!({"sha256": first["hashes"]["sha256"]}),
                    Some(&admin),
                )
                .await;
            assert_eq!(status, 201);
            let (_, second) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
            assert_eq!(second["verdict"], "hold", "{second}");
            assert_clean(file, &second.to_string());
            let case_id = second["case_id"].as_str().unwrap().to_owned();
            let items = app.store().content_items_for_case(&case_id).await.unwrap();
            assert_clean(file, &format!("{items:?}"));
            let (_, case) = app.get(&format!("/api/v1/cases/{case_id}"), Some(&reviewer)).await;
            assert_clean(file, &case.to_string());
            cases.push(case_id);
        }
        assert_eq!(cases.len(), files.len());
        let (_, stats) = app.get("/api/v1/stats", Some(&reviewer)).await;
        assert_clean("stats", &stats.to_string());
        let report =
            app.store().transparency_report(Period::days(date!(2000 - 01 - 01), date!(2099 - 12 - 31))).await.unwrap();
        assert_clean("report", &format!("{report:?}"));
    })
    .await;
}
