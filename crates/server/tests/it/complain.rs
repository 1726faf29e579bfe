//! The complaint link of a decision (`/complain/{decision}`, `pages::complain`): the code is
//! sent in a form body and the person's page is answered in place, never at an address that
//! holds the code.

use serde_json::json;
use staydown_domain::bank::VICTIM_SUBMITTED_BANK;
use staydown_domain::roles::Role;
use staydown_server::pages::csrf;

use crate::support::{each_backend, removal};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The complaint link of a decision (statement of reasons, decision notice) is a page, not the
/// POST-only API address: the person types their code and lands on their complaint form — the
/// notifier on the tracking page, the uploader on the statement page. A wrong or empty code is a
/// message beside the field; an unknown decision is the readable 404 page. The code travels in a
/// CSRF-checked POST body and the page is answered in place: it never appears in an address.
#[tokio::test]
async fn the_complaint_link_of_a_decision_leads_each_person_to_their_complaint_form() {
    each_backend(|app| async move {
        let filed = app.file(&crate::support::notice("https://example.com/upload/complain"), None).await;
        let (notice, tracking) = (filed["id"].as_str().unwrap(), filed["tracking_token"].as_str().unwrap());
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (status, decided) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let (id, uploader) = (decided["id"].as_str().unwrap(), decided["uploader_appeal_token"].as_str().unwrap());
        let (_, statement) = app.get(&format!("/api/v1/decisions/{id}/statement?token={uploader}"), None).await;
        let public = format!("http://staydown.test/complain/{id}");
        assert_eq!(statement["redress"]["internal_complaint"]["url"], public.as_str());
        assert!(statement["text"]["nl"].as_str().unwrap().contains(&public), "{statement}");
        assert!(statement["text"]["en"].as_str().unwrap().contains(&public), "{statement}");
        let link = format!("{}/complain/{id}", app.base);

        let client = crate::staff_pages::browser();
        let get = |query: String| client.get(format!("{link}{query}")).header("accept", BROWSER).send();
        let form = get("?lang=nl".to_owned()).await.unwrap();
        assert_eq!(form.status(), 200);
        let html = form.text().await.unwrap();
        assert!(html.contains("<label for=\"code\">Uw code</label>"), "{html}");
        // The code is sent in the body, never in an address (history, proxy logs).
        assert!(html.contains(&format!("<form method=\"post\" action=\"/complain/{id}?lang=nl\"")), "{html}");
        // The old link shape with `?code=` is the empty form: the code is not used, not echoed and
        // not carried into the language switch.
        let old = get(format!("?code={tracking}")).await.unwrap();
        assert_eq!(old.status(), 200);
        assert!(old.headers().get("location").is_none());
        let html = old.text().await.unwrap();
        assert!(!html.contains(tracking), "{html}");
        assert_eq!(crate::staff_pages::switch_link(&html, "nl"), format!("/complain/{id}?lang=nl"));

        let binding = "0123456789abcdef0123456789abcdef";
        let post_to = |path: &str| {
            client
                .post(format!("{}{path}", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[("csrf", csrf::token(binding)), ("code", "x".to_owned())])
                .send()
        };
        let post = |code: &str, csrf_token: String| {
            client
                .post(format!("{link}?lang=nl"))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[("csrf", csrf_token), ("code", code.to_owned())])
                .send()
        };
        for (code, status, message) in
            [("", 422, "Typ uw code."), ("not-a-code", 422, "Deze code hoort niet bij dit besluit.")]
        {
            let refused = post(code, csrf::token(binding)).await.unwrap();
            assert_eq!(refused.status(), status);
            let html = refused.text().await.unwrap();
            assert!(html.contains(message) && html.contains("aria-invalid=\"true\""), "{html}");
        }
        // A forged or expired form checks nothing.
        let forged = post(tracking, "00".repeat(32)).await.unwrap();
        assert_eq!(forged.status(), 400);
        assert!(!forged.text().await.unwrap().contains(&format!("/track/{notice}/appeal")));
        // A right code answers the person's page in place: no redirect, and no link on it
        // carries the code.
        for (code, marker) in
            [(tracking, format!("/track/{notice}/appeal")), (uploader, format!("/statement/{id}/appeal"))]
        {
            let answer = post(code, csrf::token(binding)).await.unwrap();
            assert_eq!(answer.status(), 200);
            assert!(answer.headers().get("location").is_none());
            let html = answer.text().await.unwrap();
            assert!(html.contains(&marker), "the complaint form: {html}");
            assert!(!html.contains(&format!("token={code}")), "no address with the code: {html}");
            assert!(html.contains("name=\"via\" value=\"complain\""), "{html}");
            // The language switch sends the code again in a form body, to the same address.
            assert!(html.contains(&format!("form=\"private-lang\" formaction=\"/complain/{id}?lang=en\"")), "{html}");
            assert!(
                html.contains(&format!("<form id=\"private-lang\" method=\"post\" action=\"/complain/{id}\" hidden>"))
            );
        }
        let tracking_page = app
            .client
            .get(format!("{}/api/v1/notices/{notice}?token={tracking}", app.base))
            .header("accept", BROWSER)
            .send()
            .await
            .unwrap();
        assert!(tracking_page.text().await.unwrap().contains(&format!("/track/{notice}/appeal")), "the form is there");

        // The notifier complains: the tracking page says so, with no second form meanwhile; once
        // decided it shows the outcome and the reasons.
        let (status, appeal) = app
            .post(
                &format!("/api/v1/decisions/{id}/appeals"),
                &json!({"token": tracking, "reason": "Only part of the content was taken down."}),
                None,
            )
            .await;
        assert_eq!(status, 201, "{appeal}");
        let tracking_url = format!("{}/api/v1/notices/{notice}?token={tracking}", app.base);
        let read = || async {
            app.client.get(&tracking_url).header("accept", BROWSER).send().await.unwrap().text().await.unwrap()
        };
        let open = read().await;
        assert!(
            open.contains("id=\"complaint-status\"") && !open.contains(&format!("/track/{notice}/appeal")),
            "{open}"
        );
        let senior = app.key(Role::SeniorReviewer, "senior").await;
        let reasons = "Everything the notice named was removed; nothing else was found.";
        let (status, body) = app
            .post(
                &format!("/api/v1/appeals/{}/decision", appeal["id"].as_str().unwrap()),
                &json!({"outcome": "upheld", "reasons": reasons}),
                Some(&senior),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let decided = read().await;
        assert!(decided.contains("The decision stands") && decided.contains(reasons), "{decided}");
        let unknown = client.get(format!("{}/complain/no-such-decision", app.base)).header("accept", BROWSER);
        assert_eq!(unknown.send().await.unwrap().status(), 404);
        let unknown = post_to("/complain/no-such-decision");
        assert_eq!(unknown.await.unwrap().status(), 404);
        // The uploader files the complaint from there: the answer stays in place too.
        let filed = client
            .post(format!("{}/statement/{id}/appeal", app.base))
            .header("accept", BROWSER)
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .form(&[
                ("csrf", csrf::token(binding)),
                ("token", uploader.to_owned()),
                ("via", "complain".to_owned()),
                ("reason", "It is me in the picture and I consented to it.".to_owned()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(filed.status(), 200);
        assert!(filed.headers().get("location").is_none());
        let html = filed.text().await.unwrap();
        assert!(html.contains("id=\"flash\"") && !html.contains(&format!("token={uploader}")), "{html}");
        // That answer's address holds no code; opened again, it leads to the code form (not 405).
        let again = |path: String| client.get(format!("{}{path}?lang=nl", app.base)).header("accept", BROWSER).send();
        for path in
            [format!("/statement/{id}/appeal"), format!("/track/{notice}/appeal"), format!("/track/{notice}/withdraw")]
        {
            let r = again(path.clone()).await.unwrap();
            assert_eq!(r.status(), 303, "{path}");
            assert_eq!(r.headers()["location"], format!("/complain/{id}?lang=nl").as_str(), "{path}");
        }
        assert_eq!(again("/track/no-such-notice/appeal".to_owned()).await.unwrap().status(), 404);
        assert_eq!(again("/statement/no-such-decision/appeal".to_owned()).await.unwrap().status(), 404);
    })
    .await;
}

/// A hash-only report reached through the complaint form is withdrawn in place: the are-you-sure
/// step and the answer stay at addresses without the code, "no" re-sends the code in a form
/// instead of linking to the tracking address, and the fingerprints leave the bank.
#[tokio::test]
async fn a_hash_only_report_reached_through_the_complaint_form_is_withdrawn_in_place() {
    each_backend(|app| async move {
        let receipt = app
            .file(
                &json!({
                    "hashes": [{"pdq": "f".repeat(64), "sha256": "a".repeat(64)}],
                    "explanation": "Photos of me that someone threatens to post.",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
                    "notifier": {"name": "Test Person", "email": "test.person@example.org"},
                    "good_faith": true
                }),
                None,
            )
            .await;
        let (notice, token) = (receipt["id"].as_str().unwrap(), receipt["tracking_token"].as_str().unwrap());
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (status, decided) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let decision = decided["id"].as_str().unwrap();
        let binding = "0123456789abcdef0123456789abcdef";
        let client = crate::staff_pages::browser();
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let mut form = vec![("csrf", csrf::token(binding))];
            form.extend(fields);
            client
                .post(format!("{}{path}", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&form)
                .send()
        };
        let page = post(format!("/complain/{decision}"), vec![("code", token.to_owned())]).await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("/track/{notice}/withdraw")), "{html}");

        let via = || vec![("token", token.to_owned()), ("via", "complain".to_owned())];
        let ask = post(format!("/track/{notice}/withdraw"), via()).await.unwrap();
        assert_eq!(ask.status(), 200);
        let asked = ask.text().await.unwrap();
        assert!(asked.contains("id=\"withdraw-confirm\""), "{asked}");
        assert!(!asked.contains(&format!("token={token}")), "no address with the code: {asked}");
        assert!(
            asked.contains(&format!("form=\"private-lang\" formaction=\"/complain/{decision}?lang=en\" class=\"secondary\" id=\"withdraw-no\"")),
            "{asked}"
        );
        let mut sure = via();
        sure.push(("confirm", "yes".to_owned()));
        let done = post(format!("/track/{notice}/withdraw"), sure).await.unwrap();
        assert_eq!(done.status(), 200, "answered in place");
        assert!(done.headers().get("location").is_none());
        let html = done.text().await.unwrap();
        assert!(html.contains("id=\"flash\"") && !html.contains(&format!("token={token}")), "{html}");
        let live = app.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap();
        assert_eq!(live.iter().filter(|e| e.removed_at.is_none()).count(), 0, "withdrawn from the bank");
    })
    .await;
}
