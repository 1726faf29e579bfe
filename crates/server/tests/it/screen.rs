use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::support::{TestApp, each_backend};

/// A PDQ hash (hex) with the first `flips` bits of `base` inverted: at Hamming distance `flips`.
fn flipped(base: &[u8; 32], flips: usize) -> String {
    let mut h = *base;
    for bit in 0..flips {
        h[bit / 8] ^= 0x80 >> (bit % 8);
    }
    hex::encode(h)
}

const BASE: [u8; 32] = [
    0x5a, 0x13, 0xc4, 0x7e, 0x99, 0x02, 0xf1, 0x6d, 0x3b, 0x88, 0x41, 0xe7, 0x0c, 0xd5, 0x62, 0xaf, 0x17, 0x9e, 0x70,
    0x2b, 0xc8, 0x35, 0xfa, 0x04, 0x6e, 0xb1, 0x4d, 0x93, 0x28, 0xe6, 0x5f, 0x01,
];

async fn entry(app: &TestApp, admin: &str, bank: &str, body: Value) -> String {
    let (status, e) = app.post(&format!("/api/v1/banks/{bank}/entries"), &body, Some(admin)).await;
    assert_eq!(status, 201, "[{:?}] {e}", app.backend);
    e["id"].as_str().unwrap().to_owned()
}

async fn screen(app: &TestApp, platform: &str, body: Value) -> Value {
    let (status, answer) = app.post("/api/v1/screen", &body, Some(platform)).await;
    assert_eq!(status, 200, "[{:?}] {answer}", app.backend);
    answer
}

#[tokio::test]
async fn exact_hashes_match_and_a_block_opens_a_case_in_the_queue() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let reviewer = app.key(Role::Reviewer, "R").await;
        let sha_entry = entry(&app, &admin, "confirmed", json!({"sha256": "ab".repeat(32), "reason": "case x"})).await;
        let md5_entry = entry(&app, &admin, "confirmed", json!({"md5": "CD".repeat(16)})).await;

        let nothing = screen(&app, &platform, json!({"sha256": "00".repeat(32)})).await;
        assert_eq!(
            (nothing["verdict"].as_str(), nothing["matches"].as_array().map(Vec::len)),
            (Some("allow"), Some(0))
        );
        assert!(nothing.get("case_id").is_none());

        let by_sha = screen(&app, &platform, json!({"sha256": "AB".repeat(32), "content_id": "img-1"})).await;
        assert_eq!(by_sha["verdict"], "block", "{by_sha}");
        assert_eq!(
            by_sha["matches"],
            json!([{"bank": "confirmed", "entry_id": sha_entry, "hash": "sha256", "action": "block"}])
        );
        assert_eq!(by_sha["hashes"], json!({"sha256": "ab".repeat(32)}));
        let case_id = by_sha["case_id"].as_str().unwrap().to_owned();

        let by_md5 =
            screen(&app, &platform, json!({"md5": "cd".repeat(16), "url": "https://social.example/p/9"})).await;
        assert_eq!(by_md5["verdict"], "block");
        assert_eq!(by_md5["matches"][0]["entry_id"], md5_entry.as_str());
        assert_ne!(by_md5["case_id"], case_id.as_str(), "another entry and other content: another case");

        let queue = app.queue(&reviewer).await;
        let case = queue.iter().find(|c| c["case_id"] == case_id.as_str()).expect("the block's case is queued");
        assert_eq!(case["sources"], json!(["automated_match"]));
        assert_eq!(case["category"], "STATEMENT_CATEGORY_CYBER_VIOLENCE");
        let items = app.store().content_items_for_case(&case_id).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0].content_id.as_deref(), items[0].sha256.as_deref()),
            (Some("img-1"), Some(&*"ab".repeat(32)))
        );
        assert!(items[0].provenance.is_none(), "hashes only: no provenance");
        assert!(app.store().verify_audit().await.unwrap().broken.is_none());
    })
    .await;
}

#[tokio::test]
async fn pdq_matches_up_to_the_threshold_and_not_beyond() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let id = entry(&app, &admin, "confirmed", json!({"pdq": hex::encode(BASE), "quality": 90})).await;

        let at_31 = screen(&app, &platform, json!({"pdq": flipped(&BASE, 31), "pdq_quality": 80})).await;
        assert_eq!(at_31["verdict"], "block", "{at_31}");
        assert_eq!(
            at_31["matches"],
            json!([{"bank": "confirmed", "entry_id": id, "hash": "pdq", "distance": 31, "action": "block"}])
        );

        let at_32 = screen(&app, &platform, json!({"pdq": flipped(&BASE, 32), "pdq_quality": 80})).await;
        assert_eq!((at_32["verdict"].as_str(), at_32["matches"].as_array().map(Vec::len)), (Some("allow"), Some(0)));

        // A stricter bank: distance 10 matches, 11 does not.
        let (status, _) = app
            .post("/api/v1/banks", &json!({"name": "strict", "action": "flag", "threshold": 10}), Some(&admin))
            .await;
        assert_eq!(status, 201);
        entry(&app, &admin, "strict", json!({"pdq": hex::encode(BASE)})).await;
        let at_10 = screen(&app, &platform, json!({"pdq": flipped(&BASE, 10)})).await;
        let banks: Vec<&str> =
            at_10["matches"].as_array().unwrap().iter().map(|m| m["bank"].as_str().unwrap()).collect();
        assert_eq!(banks, ["confirmed", "strict"]);
        let at_11 = screen(&app, &platform, json!({"pdq": flipped(&BASE, 11)})).await;
        assert_eq!(at_11["matches"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn low_quality_pdq_is_not_matched_and_the_answer_says_so() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        entry(&app, &admin, "confirmed", json!({"pdq": hex::encode(BASE), "quality": 100})).await;
        let low = screen(&app, &platform, json!({"pdq": hex::encode(BASE), "pdq_quality": 49})).await;
        assert_eq!(low["verdict"], "allow");
        assert_eq!(low["pdq_skipped"], "low_quality");
        assert_eq!(low["matches"], json!([]));
        let ok = screen(&app, &platform, json!({"pdq": hex::encode(BASE), "pdq_quality": 50})).await;
        assert_eq!(ok["verdict"], "block");
        assert!(ok.get("pdq_skipped").is_none());
    })
    .await;
}

#[tokio::test]
async fn the_strictest_action_wins_and_flag_allows_but_records() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        for (name, action) in [("watch", "flag"), ("review", "hold"), ("gone", "block")] {
            let (status, body) =
                app.post("/api/v1/banks", &json!({"name": name, "action": action}), Some(&admin)).await;
            assert_eq!(status, 201, "{body}");
        }
        let sha = |c: &str| c.repeat(64);
        entry(&app, &admin, "watch", json!({"sha256": sha("1")})).await;
        entry(&app, &admin, "review", json!({"sha256": sha("1")})).await;
        entry(&app, &admin, "watch", json!({"sha256": sha("2")})).await;
        entry(&app, &admin, "review", json!({"sha256": sha("3")})).await;
        entry(&app, &admin, "gone", json!({"sha256": sha("3")})).await;

        let flag_only = screen(&app, &platform, json!({"sha256": sha("2")})).await;
        assert_eq!(flag_only["verdict"], "allow");
        assert_eq!(flag_only["matches"][0]["action"], "flag");
        assert!(flag_only["screening_id"].is_string() && flag_only.get("case_id").is_none(), "{flag_only}");
        let hold = screen(&app, &platform, json!({"sha256": sha("1")})).await;
        assert_eq!(hold["verdict"], "hold");
        let actions: Vec<&str> =
            hold["matches"].as_array().unwrap().iter().map(|m| m["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["hold", "flag"]);
        let block = screen(&app, &platform, json!({"sha256": sha("3")})).await;
        assert_eq!(block["verdict"], "block");
        assert_eq!(app.store().count_screenings().await.unwrap(), 3);
        assert!(hold["case_id"].is_string() && block["case_id"].is_string());
    })
    .await;
}

#[tokio::test]
async fn a_second_upload_matching_the_same_entry_joins_the_case() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let reviewer = app.key(Role::Reviewer, "R").await;
        entry(&app, &admin, "victim-submitted", json!({"pdq": hex::encode(BASE)})).await;
        let first = screen(&app, &platform, json!({"pdq": flipped(&BASE, 5), "content_id": "a"})).await;
        let second =
            screen(&app, &platform, json!({"pdq": flipped(&BASE, 9), "content_id": "b", "uploader": "u-77"})).await;
        assert_eq!(first["verdict"], "hold");
        assert_eq!(first["case_id"], second["case_id"], "{first} {second}");
        let queue = app.queue(&reviewer).await;
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0]["notice_count"], 2);
        let items = app.store().content_items_for_case(first["case_id"].as_str().unwrap()).await.unwrap();
        let ids: Vec<_> = items.iter().map(|i| i.content_id.as_deref().unwrap()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(items[1].uploader_ref.as_deref(), Some("u-77"));
    })
    .await;
}

fn c2pa_fixture() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/c2pa/ocsp.jpg")).unwrap()
}

#[tokio::test]
async fn image_bytes_are_hashed_and_their_provenance_kept_on_the_content_item() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let image = c2pa_fixture();
        let parts: [(&str, Option<&str>, &[u8]); 2] =
            [("image", Some("upload.jpg"), &image), ("content_id", None, b"photo-3")];
        let (status, first) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["verdict"], "allow");
        assert_eq!(first["provenance"]["ai_generated"], "yes", "{first}");
        assert_eq!(first["provenance"]["generator"], "Adobe Firefly");
        let hashes = &first["hashes"];
        assert_eq!(hashes["pdq"].as_str().map(str::len), Some(64));
        assert!(hashes["pdq_quality"].is_u64() && hashes["md5"].is_string());

        entry(&app, &admin, "confirmed", json!({"sha256": hashes["sha256"]})).await;
        let (_, second) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(second["verdict"], "block", "{second}");
        let items = app.store().content_items_for_case(second["case_id"].as_str().unwrap()).await.unwrap();
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!((item.ai_generated.as_deref(), item.generator.as_deref()), (Some("yes"), Some("Adobe Firefly")));
        assert_eq!(item.edited.as_deref(), second["provenance"]["edited"].as_str());
        assert_eq!(item.provenance.as_ref(), Some(&second["provenance"]));
        // The reviewer sees what the file says about itself on the case page.
        let reviewer = app.key(Role::Reviewer, "R").await;
        let (_, case) =
            app.get(&format!("/api/v1/cases/{}", second["case_id"].as_str().unwrap()), Some(&reviewer)).await;
        assert_eq!(case["content"][0]["provenance"]["generator"], "Adobe Firefly", "{case}");
        assert_eq!(case["content"][0]["content_id"], "photo-3");

        // Untrusted bytes: not an image is a field error, not a crash.
        let junk: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("x.jpg"), b"not an image at all")];
        let (status, problem) = app.post_multipart("/api/v1/screen", &junk, Some(&platform)).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("image")), "{problem}");
    })
    .await;
}

#[tokio::test]
async fn screening_needs_a_platform_key_and_valid_hashes() {
    each_backend(|app| async move {
        let reviewer = app.key(Role::Reviewer, "R").await;
        let platform = app.key(Role::Platform, "P").await;
        let body = json!({"sha256": "ab".repeat(32)});
        assert_eq!(app.post("/api/v1/screen", &body, None).await.0, 401);
        assert_eq!(app.post("/api/v1/screen", &body, Some(&reviewer)).await.0, 403);
        let (status, problem) =
            app.post("/api/v1/screen", &json!({"pdq": "zz", "md5": "1", "pdq_quality": 101}), Some(&platform)).await;
        assert_eq!(status, 422);
        assert_eq!(crate::support::error_fields(&problem), ["pdq", "md5", "pdq_quality"]);
        let (status, problem) = app.post("/api/v1/screen", &json!({}), Some(&platform)).await;
        assert_eq!((status, crate::support::error_fields(&problem)), (422, vec!["pdq".to_owned()]));
    })
    .await;
}

#[tokio::test]
async fn metrics_expose_screening_latency_and_verdicts() {
    each_backend(|app| async move {
        let platform = app.key(Role::Platform, "P").await;
        screen(&app, &platform, json!({"md5": "ee".repeat(16)})).await;
        let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(text.contains("staydown_screen_seconds_bucket"), "{text}");
        assert!(text.contains("staydown_screen_verdicts_total{verdict=\"allow\"}"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn image_bodies_over_the_configured_limit_get_413() {
    for backend in staydown_testkit::backends().await {
        let settings = staydown_server::Settings { screen_body_limit: 100_000, ..staydown_server::Settings::default() };
        let app = TestApp::start_with(backend, settings).await;
        let platform = app.key(Role::Platform, "P").await;
        let image = c2pa_fixture();
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("big.jpg"), &image[..150_000])];
        let (status, problem) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(status, 413, "[{backend:?}] {problem}");
        assert_eq!(problem["type"], "/problems/payload-too-large");
    }
}
