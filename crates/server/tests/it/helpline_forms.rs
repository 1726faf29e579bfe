//! The helpline case page's forms that had no page test: "Check the URL now" when the check
//! finds nothing, and the hash-only notice form sent twice.

use serde_json::json;
use staydown_domain::roles::Role;
use staydown_server::Settings;

use crate::helpline::{caseworker, helpline_settings, open_case, request_body};
use crate::staff_pages::{account, page, post_form, sign_in};
use crate::support::{TestApp, each_backend};

/// "Check the URL now" on a URL nothing answers at: the button leads back to the request on the
/// case page, which says in the page's language that the check could not tell (before: "not
/// checked yet"); the check of an unknown request is the console's 404 page, not problem+json.
#[tokio::test]
async fn a_url_check_that_reaches_nothing_reads_as_could_not_tell_on_the_case_page() {
    each_backend(|first| async move {
        let app = TestApp::start_with(first.backend, helpline_settings()).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "cees", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&app, "cees").await;
        let cw = caseworker(&app).await;
        let (_, p) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "L", "channel": "letter"}), Some(&cw)).await;
        let case_id = open_case(&app, &cw).await;
        // A loopback port that nothing listens on any more.
        let closed = {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            listener.local_addr().expect("address").port()
        };
        let url = format!("http://127.0.0.1:{closed}/img");
        let (status, request) = app
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &request_body(p["id"].as_str().expect("id"), &url),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_str().expect("id").to_owned();
        let case_page = format!("/staff/helpline/cases/{case_id}");
        let dutch = format!("{cookie}; {}=nl", staydown_server::pages::i18n::LANG_COOKIE);
        let (_, _, before) = page(&app, &case_page, Some(&dutch)).await;
        assert!(before.contains("nog niet gecontroleerd"), "{before}");

        let (status, location, _) =
            post_form(&app, &format!("/staff/helpline/requests/{id}/check"), &cookie, &[("csrf", &csrf)]).await;
        assert_eq!((status, location), (303, format!("{case_page}#request-{id}")));
        let (_, _, after) = page(&app, &case_page, Some(&dutch)).await;
        assert!(after.contains("niet vast te stellen (") && !after.contains("nog niet gecontroleerd"), "{after}");
        let (_, _, english) = page(&app, &case_page, Some(&cookie)).await;
        assert!(english.contains("could not tell ("), "{english}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["url_state"], "unknown", "{r}");

        let (status, _, html) =
            post_form(&app, "/staff/helpline/requests/no-such-request/check", &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(status, 404);
        assert!(html.contains("<html") && !html.contains("problem+json"), "{html}");
    })
    .await;
}

/// The hash-only notice form sent twice (a double click, a reload of the answer) files one
/// notice with the platform, and both sends land on the case page.
#[tokio::test]
async fn a_hash_notice_form_sent_twice_files_one_notice() {
    each_backend(|platform| async move {
        let helpline = TestApp::start_with(platform.backend, Settings::default()).await;
        let tf_key = platform.key(Role::TrustedFlagger, "Helpline NL").await;
        let reviewer = platform.key(Role::Reviewer, "reviewer").await;
        let admin = helpline.key(Role::Admin, "admin").await;
        account(&helpline, &admin, "cees", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&helpline, "cees").await;
        let cw = caseworker(&helpline).await;
        let (status, p) = helpline
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "P", "staydown_url": platform.base, "api_key": tf_key, "trusted_flagger": true}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let platform_id = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&helpline, &cw).await;
        let pdq = "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let (status, added) = helpline
            .post(&format!("/api/v1/helpline/cases/{case_id}/hashes"), &json!({"pdq": pdq, "quality": 100}), Some(&cw))
            .await;
        assert_eq!(status, 201, "{added}");

        let case_page = format!("/staff/helpline/cases/{case_id}");
        let (_, _, html) = page(&helpline, &case_page, Some(&cookie)).await;
        let form = &html[html.find("/hash-notices\" novalidate").expect("the hash-notice form")..];
        let needle = "name=\"submission\" value=\"";
        let at = form.find(needle).expect("the form carries a submission value") + needle.len();
        let submission = form[at..at + 32].to_owned();
        let fields = [
            ("csrf", csrf.as_str()),
            ("submission", &submission),
            ("platform", &platform_id),
            ("category", "STATEMENT_CATEGORY_CYBER_VIOLENCE"),
            ("keywords", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"),
            ("legal_ground", "nl-sr-254ba"),
            ("explanation", "Sextortion: intimate images of a young woman, threatened to be published."),
        ];
        let path = format!("{case_page}/hash-notices");
        let (first, second) =
            tokio::join!(post_form(&helpline, &path, &cookie, &fields), post_form(&helpline, &path, &cookie, &fields));
        assert_eq!(first.0, 303, "{}", first.2);
        assert_eq!((second.0, &second.1), (303, &first.1), "both land on the case page: {}", second.2);
        // A reload of the answer later files nothing more.
        assert_eq!(post_form(&helpline, &path, &cookie, &fields).await.0, 303);
        let (_, case) = helpline.get(&format!("/api/v1/helpline/cases/{case_id}"), Some(&cw)).await;
        assert_eq!(case["requests"].as_array().expect("requests").len(), 1, "{case}");
        assert_eq!(platform.queue(&reviewer).await.len(), 1, "the platform got one notice");
    })
    .await;
}
