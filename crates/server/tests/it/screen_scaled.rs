//! `screen_jpeg_decode = "scaled"` (issue 16): the lookup uses the DCT-scaled decode, and every
//! PDQ hash that is stored (content item, remembered content) or answered is the exact one; the
//! lookup computes only the digests some bank holds, and whatever is stored carries both.

use serde_json::json;
use staydown_domain::roles::Role;
use staydown_media::corpus::{PhotoSpec, Sampling, photo_jpeg};
use staydown_media::{DecodeLimits, hash_image_bytes, hash_image_bytes_for_lookup_until};
use staydown_server::Settings;
use staydown_server::decode_budget::JpegDecode;

use crate::support::TestApp;

/// A photo whose scaled PDQ hash differs from its exact one, so that storing the wrong one shows.
fn drifting_photo(from_seed: u64) -> (Vec<u8>, String, String) {
    let limits = DecodeLimits::default();
    for seed in from_seed..from_seed + 60 {
        let spec =
            PhotoSpec { width: 1024, height: 768, quality: 60, sampling: Sampling::S420, progressive: false, seed };
        let jpeg = photo_jpeg(&spec).unwrap();
        let exact = hash_image_bytes(&jpeg, &limits).unwrap();
        let (lookup, scale) = hash_image_bytes_for_lookup_until(&jpeg, &limits, &|| false).unwrap();
        assert_eq!(scale, Some(4));
        if exact.pdq != lookup.pdq && exact.quality >= 50 {
            return (jpeg, exact.pdq.to_hex(), lookup.pdq.to_hex());
        }
    }
    panic!("no photo in 60 whose scaled hash drifts");
}

#[tokio::test]
async fn scaled_lookups_store_and_answer_only_exact_hashes() {
    for backend in staydown_testkit::backends().await {
        let settings = Settings {
            public_url: "http://staydown.test".into(),
            screen_jpeg_decode: JpegDecode::Scaled,
            ..Settings::default()
        };
        let app = TestApp::start_with(backend, settings).await;
        let admin = app.key(Role::Admin, "Admin").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let (photo, exact, lookup) = drifting_photo(1);
        let (other, other_exact, _) = drifting_photo(100);
        let limits = DecodeLimits::default();

        // Nothing stored, nothing matched, no bank holds a digest: the answer carries no PDQ
        // hash and no digest.
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("a.jpg"), &photo)];
        let (status, plain) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!((status, plain["verdict"].as_str()), (200, Some("allow")), "{plain}");
        assert!(plain["hashes"].get("pdq").is_none(), "a lookup-only hash is not answered: {plain}");
        assert!(plain["hashes"].get("sha256").is_none() && plain["hashes"].get("md5").is_none(), "{plain}");

        // A content id is remembered for later banking: the answer (and what is kept) is exact.
        let parts: [(&str, Option<&str>, &[u8]); 2] = [("image", Some("b.jpg"), &other), ("content_id", None, b"c-1")];
        let (_, remembered) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(remembered["verdict"], "allow", "{remembered}");
        assert_eq!(remembered["hashes"]["pdq"], other_exact.as_str());
        let other_hashes = hash_image_bytes(&other, &limits).unwrap();
        assert_eq!(remembered["hashes"]["sha256"], other_hashes.sha256_hex().as_str(), "kept: both digests");
        assert_eq!(remembered["hashes"]["md5"], other_hashes.md5_hex().as_str());

        // A match is recorded with the exact hash on the content item, found by the scaled one.
        app.post(&format!("/api/v1/banks/{}/entries", "confirmed"), &json!({"pdq": exact}), Some(&admin)).await;
        let parts: [(&str, Option<&str>, &[u8]); 2] = [("image", Some("c.jpg"), &photo), ("content_id", None, b"c-2")];
        let (_, matched) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(matched["verdict"], "block", "{matched}");
        assert_eq!(matched["hashes"]["pdq"], exact.as_str(), "answered: exact, not the lookup's {lookup}");
        let distance = matched["matches"][0]["distance"].as_u64().unwrap();
        assert!((1..=4).contains(&distance), "found at the scaled hash's drift: {distance}");
        let items = app.store().content_items_for_case(matched["case_id"].as_str().unwrap()).await.unwrap();
        assert_eq!(items[0].pdq.as_deref(), Some(exact.as_str()), "stored: exact");
        assert_eq!(items[0].sha256.as_deref(), Some(hash_image_bytes(&photo, &limits).unwrap().sha256_hex().as_str()));

        // Once a bank holds a SHA-256 digest, every lookup computes SHA-256 (and still not MD5),
        // and an upload with that digest matches by it.
        let spec =
            PhotoSpec { width: 900, height: 700, quality: 80, sampling: Sampling::S420, progressive: true, seed: 7 };
        let third = photo_jpeg(&spec).unwrap();
        let third_sha256 = hash_image_bytes(&third, &limits).unwrap().sha256_hex();
        app.post("/api/v1/banks/confirmed/entries", &json!({"sha256": third_sha256}), Some(&admin)).await;
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("d.jpg"), &other)];
        let (_, unmatched) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(unmatched["verdict"], "allow", "{unmatched}");
        assert_eq!(unmatched["hashes"]["sha256"], other_hashes.sha256_hex().as_str(), "{unmatched}");
        assert!(unmatched["hashes"].get("md5").is_none(), "no bank holds MD5: {unmatched}");
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("e.jpg"), &third)];
        let (_, by_digest) = app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        assert_eq!(
            (by_digest["verdict"].as_str(), by_digest["matches"][0]["hash"].as_str()),
            (Some("block"), Some("sha256")),
            "{by_digest}"
        );
        assert_eq!(by_digest["hashes"]["sha256"], third_sha256.as_str());
        assert_eq!(
            by_digest["hashes"]["md5"].as_str().map(str::len),
            Some(32),
            "a match answers both digests: {by_digest}"
        );
    }
}
