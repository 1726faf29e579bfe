//! The case page's content upload when the file is over the upload limit.

use staydown_domain::roles::Role;

use crate::staff_pages::{account, browser, sign_in};
use crate::support::{TestApp, each_backend, notice};

/// A file over the upload limit gets the case page with 413 and a message beside the file field
/// that names the limit, in the page language (before: 400 "could not be read, or it is too
/// large"); nothing is stored.
#[tokio::test]
async fn an_upload_over_the_limit_names_the_limit_beside_the_field() {
    each_backend(|first| async move {
        let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
        let settings = staydown_server::Settings {
            public_url: "http://staydown.test".into(),
            vault: Some(keyring),
            body_limit: 1_000_000,
            screen_body_limit: 2_000_000,
            ..staydown_server::Settings::default()
        };
        let app = TestApp::start_with(first.backend, settings).await;
        app.file(&notice("https://example.com/too-large.jpg"), None).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rob", Role::Reviewer).await;
        let (cookie, csrf) = sign_in(&app, "rob").await;
        let reviewer = app.staff(Role::Reviewer, "helper").await;
        let case = app.only_case(&reviewer).await;
        let big = vec![0xFFu8; 2_100_000];
        let (content_type, body) =
            crate::staff_pages::multipart(&[("csrf", csrf.as_str())], ("file", "big.jpg", "image/jpeg", &big));
        let send = |cookie: String| {
            browser()
                .post(format!("{}/staff/cases/{case}/content", app.base))
                .header("cookie", cookie)
                .header("accept", "text/html")
                .header("content-type", content_type.clone())
                .body(body.clone())
                .send()
        };
        for (lang, message) in [
            ("en", "The file is larger than 2 MB, the most that can be uploaded here. Nothing was stored."),
            ("nl", "Het bestand is groter dan 2 MB, het maximum dat hier kan worden geüpload. Er is niets bewaard."),
        ] {
            let cookie = format!("{cookie}; {}={lang}", staydown_server::pages::i18n::LANG_COOKIE);
            let resp = send(cookie).await.unwrap();
            assert_eq!(resp.status().as_u16(), 413);
            let html = resp.text().await.unwrap();
            let error = &html[html.find("id=\"upload-file-error\"").expect("the message beside the field")..];
            assert!(error[..error.find("</").unwrap()].contains(message), "{error}");
        }
        let (status, case_json) = app.get(&format!("/api/v1/cases/{case}"), Some(&reviewer)).await;
        assert_eq!(status, 200, "{case_json}");
        assert_eq!(case_json["content"].as_array().map(Vec::len), Some(0), "nothing stored: {case_json}");
    })
    .await;
}
