use serde_json::json;
use staydown_domain::bank::VICTIM_SUBMITTED_BANK;
use staydown_domain::roles::Role;
use staydown_server::pages::csrf;

use crate::support::{each_backend, removal};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn a_hash_only_report_is_withdrawn_from_every_bank_it_fed() {
    each_backend(|app| async move {
        let receipt = app
            .file(
                &json!({
                    "hashes": [{"pdq": "f".repeat(64), "sha256": "a".repeat(64)}, {"md5": "b".repeat(32)}],
                    "explanation": "Photos of me that someone threatens to post.",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
                    "notifier": {"name": "Test Person", "email": "test.person@example.org"},
                    "good_faith": true
                }),
                None,
            )
            .await;
        let id = receipt["id"].as_str().unwrap();
        let token = receipt["tracking_token"].as_str().unwrap();
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (status, body) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{body}");
        let live = |entries: Vec<staydown_store::BankEntry>| entries.iter().filter(|e| e.removed_at.is_none()).count();
        assert_eq!(live(app.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap()), 2);

        // The tracking URL answers a browser with the page, offering the withdrawal.
        let page = app
            .client
            .get(format!("{}/api/v1/notices/{id}?token={token}", app.base))
            .header("accept", BROWSER)
            .send()
            .await
            .unwrap();
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.text().await.unwrap().contains(&format!("/track/{id}/withdraw")));

        let binding = "0123456789abcdef0123456789abcdef";
        let withdraw = |csrf_token: String, token: String| {
            app.client
                .post(format!("{}/track/{id}/withdraw", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[("csrf", csrf_token), ("token", token), ("confirm", "yes".into())])
                .send()
        };
        // The first press only asks "are you sure?": nothing is withdrawn yet.
        let ask = app
            .client
            .post(format!("{}/track/{id}/withdraw", app.base))
            .header("accept", BROWSER)
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .form(&[("csrf", csrf::token(binding)), ("token", token.to_owned())])
            .send()
            .await
            .unwrap();
        assert_eq!(ask.status(), 200);
        let asked = ask.text().await.unwrap();
        assert!(
            asked.contains("id=\"withdraw-confirm\"") && asked.contains("name=\"confirm\" value=\"yes\""),
            "{asked}"
        );
        // A forged form (no valid CSRF token) and a wrong tracking token change nothing.
        assert_eq!(withdraw("00".repeat(32), token.to_owned()).await.unwrap().status(), 400);
        assert_eq!(withdraw(csrf::token(binding), "wrong".into()).await.unwrap().status(), 404);
        assert_eq!(live(app.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap()), 2);

        let done = withdraw(csrf::token(binding), token.to_owned()).await.unwrap();
        assert!(done.status().is_success(), "{}", done.status()); // followed the redirect to the page
        assert_eq!(live(app.store().bank_entries(VICTIM_SUBMITTED_BANK, 0, 100).await.unwrap()), 0);
        let audit = app.store().audit_for(&format!("notice:{id}")).await.unwrap();
        let entry = audit.iter().find(|a| a.action == "notice.withdrawn").expect("audited");
        assert!(!entry.detail.contains("example.org"), "no personal data in the audit: {}", entry.detail);
        // Once is enough.
        assert_eq!(withdraw(csrf::token(binding), token.to_owned()).await.unwrap().status(), 409);
        // A notice with a location cannot be withdrawn this way.
        let located = app.file(&crate::support::notice("https://example.com/x"), None).await;
        let (lid, ltoken) = (located["id"].as_str().unwrap(), located["tracking_token"].as_str().unwrap());
        let r = app
            .client
            .post(format!("{}/track/{lid}/withdraw", app.base))
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .form(&[("csrf", csrf::token(binding)), ("token", ltoken.to_owned()), ("confirm", "yes".to_owned())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
    })
    .await;
}

#[tokio::test]
async fn the_uploader_reads_the_statement_as_a_page_and_appeals_from_it() {
    each_backend(|app| async move {
        app.file(&crate::support::notice("https://example.com/upload/7"), None).await;
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (status, decided) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let id = decided["id"].as_str().unwrap();
        let token = decided["uploader_appeal_token"].as_str().unwrap();
        let url = format!("{}/api/v1/decisions/{id}/statement?token={token}&lang=nl", app.base);
        let page = app.client.get(&url).header("accept", BROWSER).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Waarom uw inhoud is beperkt") && html.contains(&format!("/statement/{id}/appeal")),
            "{html}"
        );
        // Machines still get JSON on the same link.
        let (status, json) = app.get(&format!("/api/v1/decisions/{id}/statement?token={token}"), None).await;
        assert_eq!(status, 200);
        assert!(json["text"]["nl"].is_string(), "{json}");
        // The statement writes its dates out, in Dutch, and the complaint deadline on the
        // service's clock (Europe/Amsterdam) as the page around it does; the JSON keeps UTC.
        let deadline = json["redress"]["internal_complaint"]["deadline"].as_str().expect("deadline");
        assert!(deadline.ends_with('Z'), "{deadline}");
        let local = deadline
            .parse::<jiff::Timestamp>()
            .expect("RFC 3339")
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Amsterdam").expect("bundled"));
        let months = [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ];
        let written = format!(
            "tot {} {} {}, {}",
            local.day(),
            months[local.month() as usize - 1],
            local.year(),
            local.strftime("%H:%M %Z")
        );
        let text = &html[html.find("id=\"statement-text\"").expect("the statement")..];
        let text = &text[..text.find("</div>").expect("its end")];
        assert!(text.contains(&written), "{written} in {text}");
        let iso = text
            .as_bytes()
            .windows(10)
            .any(|w| w.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() }));
        assert!(!iso, "no ISO dates in the statement: {text}");
        // A wrong token shows nothing.
        let wrong = app
            .client
            .get(format!("{}/api/v1/decisions/{id}/statement?token=x", app.base))
            .header("accept", BROWSER)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 404);

        let binding = "fedcba9876543210fedcba9876543210";
        let post = |reason: &'static str| {
            app.client
                .post(format!("{}/statement/{id}/appeal", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[("csrf", csrf::token(binding)), ("token", token.to_owned()), ("reason", reason.to_owned())])
                .send()
        };
        let empty = post("").await.unwrap();
        assert_eq!(empty.status(), 422);
        // The language switch on the answer to the POST leads to the statement page, not to the
        // POST-only address.
        let switch = crate::staff_pages::switch_link(&empty.text().await.unwrap(), "nl");
        assert_eq!(switch, format!("/statement/{id}?token={token}&lang=nl"));
        let dutch = app.client.get(format!("{}{switch}", app.base)).header("accept", BROWSER).send().await.unwrap();
        assert_eq!(dutch.status(), 200);
        assert!(dutch.text().await.unwrap().contains("<html lang=\"nl\">"));
        let done = post("It is me in the picture and I consented to it.").await.unwrap();
        assert!(done.status().is_success());
        let text = done.text().await.unwrap();
        assert!(text.contains("id=\"flash\""), "{text}");
        let summary = app.store().case_summary(&case).await.unwrap().expect("case");
        assert_eq!(summary.state, staydown_domain::case::CaseState::Appealed);
    })
    .await;
}

/// `/policy` describes the built-in fingerprint lists and what a match does in the reader's
/// language, not with internal identifiers (`confirmed`, `block`).
#[tokio::test]
async fn the_policy_page_names_lists_and_actions_in_the_readers_language() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let page = app
        .client
        .get(format!("{}/policy?lang=nl", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Beelden die wij na beoordeling hebben verwijderd"), "{page}");
    assert!(page.contains("geblokkeerd, en een mens bevestigt de zaak"), "{page}");
    assert!(!page.contains("<td>block</td>") && !page.contains("<td>confirmed</td>"), "{page}");
}

/// The old `/hash` address keeps the chosen language, and redirects carry the pages' security headers.
#[tokio::test]
async fn redirects_keep_the_language_and_the_security_headers() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = client.get(format!("{}/hash?lang=nl", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "/report/hashes?lang=nl");
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
}

/// After a rejected complaint (the decision upheld), the statement page asks what is new, says so
/// beside the field when it is left empty, and files the second complaint with it.
#[tokio::test]
async fn a_second_complaint_after_an_upheld_one_asks_for_new_facts_on_the_page() {
    each_backend(|app| async move {
        app.file(&crate::support::notice("https://example.com/upload/8"), None).await;
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        let senior = app.key(Role::SeniorReviewer, "senior").await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (_, decided) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        let id = decided["id"].as_str().unwrap();
        let token = decided["uploader_appeal_token"].as_str().unwrap();
        let url = format!("{}/api/v1/decisions/{id}/statement?token={token}", app.base);
        let first = app.client.get(&url).header("accept", BROWSER).send().await.unwrap().text().await.unwrap();
        assert!(!first.contains("id=\"new_facts\""), "no new-facts field before any complaint: {first}");
        let (status, appeal) = app
            .post(&format!("/api/v1/decisions/{id}/appeals"), &json!({"token": token, "reason": "It is not me."}), None)
            .await;
        assert_eq!(status, 201, "{appeal}");
        let upheld = json!({"outcome": "upheld", "reasons": "The person shown is the notifier."});
        let (status, body) = app
            .post(&format!("/api/v1/appeals/{}/decision", appeal["id"].as_str().unwrap()), &upheld, Some(&senior))
            .await;
        assert_eq!(status, 200, "{body}");

        let again = app.client.get(&url).header("accept", BROWSER).send().await.unwrap().text().await.unwrap();
        assert!(again.contains("id=\"new_facts\""), "the form asks what is new: {again}");
        let binding = "00112233445566778899aabbccddeeff";
        let post = |new_facts: &'static str| {
            app.client
                .post(format!("{}/statement/{id}/appeal", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[
                    ("csrf", csrf::token(binding)),
                    ("token", token.to_owned()),
                    ("reason", "Still not me.".to_owned()),
                    ("new_facts", new_facts.to_owned()),
                ])
                .send()
        };
        let refused = post("").await.unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"new_facts-error\"") && html.contains("Still not me."), "{html}");
        assert!(html.contains("aria-describedby=\"new_facts-hint new_facts-error\""), "{html}");
        let filed = post("A signed statement from the person shown, dated after the decision.").await.unwrap();
        assert!(filed.status().is_success(), "{}", filed.status());
        let appeals = app.store().case_appeals(&case).await.unwrap();
        assert_eq!(appeals.len(), 2, "{appeals:?}");
    })
    .await;
}

/// The report form lists its errors in the order of the fields, marks each invalid input and points
/// it at its message; the hash-only form never calls its optional explanation required.
#[tokio::test]
async fn form_errors_follow_the_form_and_point_inputs_at_their_messages() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let binding = "0123456789abcdef0123456789abcdef";
    let send = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf::token(binding))];
        form.extend(fields);
        app.client
            .post(format!("{}{path}", app.base))
            .header("accept", BROWSER)
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .form(&form)
            .send()
    };
    let r = send("/report", vec![("email", "not an address".into())]).await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    let summary = &html[html.find("id=\"error-summary\"").expect("summary")..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    let order: Vec<usize> = ["#locations", "#what", "#explanation", "#email", "#good_faith"]
        .iter()
        .map(|f| summary.find(&format!("href=\"{f}\"")).unwrap_or_else(|| panic!("{f} in {summary}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "summary in form order: {summary}");
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"locations-hint locations-error\""), "{html}");
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"email-error\""), "{html}");
    assert!(html.contains("aria-invalid=\"false\">"), "valid inputs are not marked: {html}");
    assert!(!html.contains("aria-describedby=\"\""), "no empty reference lists: {html}");
    assert!(html.contains("At most 10,000 characters.") && html.contains("maxlength=\"10000\""), "{html}");

    let hashes =
        send("/report/hashes", vec![("hash", format!("{},100,{},", "f".repeat(64), "a".repeat(64)))]).await.unwrap();
    assert_eq!(hashes.status(), 422);
    let html = hashes.text().await.unwrap();
    assert!(html.contains("id=\"what-error\""), "{html}");
    assert!(!html.contains("id=\"explanation-error\""), "the optional explanation is not required: {html}");
}

/// Without JavaScript the fingerprint-only page says plainly that fingerprints need it and offers
/// the normal form (a link, not only words); sent from such a browser, the error says the same
/// instead of "wait until the fingerprint is ready", in both languages.
#[tokio::test]
async fn the_fingerprint_page_without_javascript_offers_the_normal_form() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    for (lang, says, link) in [
        ("en", "Making fingerprints needs JavaScript", "Report where the images are with the normal form"),
        ("nl", "Voor het maken van vingerafdrukken is JavaScript nodig", "Meld met het gewone formulier"),
    ] {
        let page = app.client.get(format!("{}/report/hashes?lang={lang}", app.base)).header("accept", BROWSER);
        let html = page.send().await.unwrap().text().await.unwrap();
        let noscript = &html[html.find("<noscript><div").expect("the no-JavaScript notice")..];
        let noscript = &noscript[..noscript.find("</noscript>").unwrap()];
        assert!(noscript.contains(says) && noscript.contains("<a href=\"/report\""), "{noscript}");
        assert!(noscript.contains(link), "{noscript}");
        assert!(html.contains("<noscript><input type=\"hidden\" name=\"nojs\" value=\"1\"></noscript>"), "{html}");
    }
    let binding = "0123456789abcdef0123456789abcdef";
    let send = |lang: &str, nojs: bool| {
        let mut form = vec![("csrf", csrf::token(binding)), ("what", "intimate".to_owned())];
        if nojs {
            form.push(("nojs", "1".to_owned()));
        }
        app.client
            .post(format!("{}/report/hashes?lang={lang}", app.base))
            .header("accept", BROWSER)
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .form(&form)
            .send()
    };
    let off = send("nl", true).await.unwrap();
    assert_eq!(off.status(), 422);
    let html = off.text().await.unwrap();
    assert!(html.contains("JavaScript staat uit in uw browser") && !html.contains("wacht tot"), "{html}");
    let off = send("en", true).await.unwrap().text().await.unwrap();
    assert!(off.contains("JavaScript is off in your browser"), "{off}");
    let on = send("en", false).await.unwrap().text().await.unwrap();
    assert!(on.contains("wait until its fingerprint is ready") && !on.contains("JavaScript is off"), "{on}");
}

/// Times on pages are local and written out ("30 November 2026, 09:28"), never "UTC" codes; an
/// anonymous report's timeline has no "confirmation sent" step, since there is no address to send it to.
#[tokio::test]
async fn pages_show_local_human_times_and_only_steps_that_will_happen() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let mut anonymous = crate::support::notice("https://example.com/anon/1");
    // Only a notice about child sexual abuse material may be anonymous (DSA Art. 16(2)(c)).
    let fields = anonymous.as_object_mut().unwrap();
    fields.remove("notifier");
    fields.insert("category".into(), json!("STATEMENT_CATEGORY_PROTECTION_OF_MINORS"));
    fields.insert("keywords".into(), json!(["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]));
    fields.insert("legal_ground".into(), json!("nl-sr-252"));
    let receipt = app.file(&anonymous, None).await;
    let (id, token) = (receipt["id"].as_str().unwrap(), receipt["tracking_token"].as_str().unwrap());
    let get = |lang: &'static str| {
        app.client
            .get(format!("{}/api/v1/notices/{id}?token={token}&lang={lang}", app.base))
            .header("accept", BROWSER)
            .send()
    };
    let en = get("en").await.unwrap().text().await.unwrap();
    let received =
        app.store().notice_status(id, &staydown_domain::secret_digest(token)).await.unwrap().unwrap().received_at;
    let local =
        jiff::Timestamp::from_nanosecond(received.unix_timestamp_nanos()).unwrap().in_tz("Europe/Amsterdam").unwrap();
    let month = usize::try_from(local.month()).unwrap() - 1;
    let expected = |names: [&str; 12]| {
        format!("{} {} {}, {:02}:{:02}", local.day(), names[month], local.year(), local.hour(), local.minute())
    };
    let en_months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let nl_months = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    assert!(en.contains(&expected(en_months)), "expected {} (Europe/Amsterdam) in {en}", expected(en_months));
    assert!(!en.contains(" UTC"), "{en}");
    assert!(!en.contains("Confirmation sent"), "anonymous: no confirmation step: {en}");
    let nl = get("nl").await.unwrap().text().await.unwrap();
    assert!(nl.contains(&expected(nl_months)), "expected {} in {nl}", expected(nl_months));

    let named = app.file(&crate::support::notice("https://example.com/named/1"), None).await;
    let page = app
        .client
        .get(format!(
            "{}/api/v1/notices/{}?token={}",
            app.base,
            named["id"].as_str().unwrap(),
            named["tracking_token"].as_str().unwrap()
        ))
        .header("accept", BROWSER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Confirmation sent"), "a report with an address expects its confirmation: {page}");
    // The confirmation page says whether we will write, instead of "if you gave an address".
    let confirmation = |receipt: &serde_json::Value| {
        let url = format!(
            "{}/report/received/{}?token={}",
            app.base,
            receipt["id"].as_str().unwrap(),
            receipt["tracking_token"].as_str().unwrap()
        );
        let client = app.client.clone();
        async move { client.get(url).header("accept", BROWSER).send().await.unwrap().text().await.unwrap() }
    };
    let page = confirmation(&named).await;
    assert!(page.contains("We sent a confirmation to the e-mail address you gave"), "{page}");
    assert!(!page.contains("If you gave"), "{page}");
    let page = confirmation(&receipt).await;
    assert!(page.contains("You gave no e-mail address, so we cannot write to you. Keep the link below"), "{page}");
}

/// A report form sent twice (a double click, a reload of the answer) files one notice: both sends
/// land on the same confirmation. The same form with other contents is a new report. The
/// confirmation's tracking link is the tracking page, which any client gets as a page.
#[tokio::test]
async fn a_report_form_sent_twice_files_one_notice_and_links_the_tracking_page() {
    each_backend(|app| async move {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let binding = "0123456789abcdef0123456789abcdef";
        let form = client
            .get(format!("{}/report", app.base))
            .header("cookie", format!("{}={binding}", csrf::COOKIE))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let needle = "name=\"submission\" value=\"";
        let at = form.find(needle).expect("the form carries a submission value") + needle.len();
        let submission = form[at..at + 32].to_owned();
        let send = |explanation: &'static str| {
            client
                .post(format!("{}/report", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}={binding}", csrf::COOKIE))
                .form(&[
                    ("csrf", csrf::token(binding)),
                    ("submission", submission.clone()),
                    ("locations", "https://example.com/twice/1".into()),
                    ("what", "deepfake".into()),
                    ("explanation", explanation.into()),
                    ("name", "Test Person".into()),
                    ("email", "test.person@example.org".into()),
                    ("good_faith", "yes".into()),
                ])
                .send()
        };
        let location = |r: reqwest::Response| {
            assert_eq!(r.status(), 303);
            r.headers()["location"].to_str().unwrap().to_owned()
        };
        let (first, second) = tokio::join!(send("A fake nude of me."), send("A fake nude of me."));
        let (first, second) = (location(first.unwrap()), location(second.unwrap()));
        assert_eq!(first, second, "both sends land on the one confirmation");
        assert_eq!(location(send("A fake nude of me.").await.unwrap()), first, "a reload lands there too");
        assert_eq!(app.store().count_notices().await.unwrap(), 1);
        let other = location(send("A fake nude of me, posted twice.").await.unwrap());
        assert_ne!(other, first, "other contents are another report");
        assert_eq!(app.store().count_notices().await.unwrap(), 2);

        let confirmation = client.get(format!("{}{first}", app.base)).send().await.unwrap().text().await.unwrap();
        let start = confirmation.find("http://staydown.test/track/").expect("the tracking link is the page");
        let link = &confirmation[start + "http://staydown.test".len()..];
        let link = &link[..link.find('"').unwrap()];
        // No Accept header at all (a link checker, a mail client's preview): still the page.
        let page = client.get(format!("{}{link}", app.base)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let wrong = link.replace("token=", "token=0");
        let refused = client.get(format!("{}{wrong}", app.base)).send().await.unwrap();
        assert_eq!(refused.status(), 404);
        assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    })
    .await;
}

/// The language switch of the report form sends the form back instead of following a link: the
/// form comes back in the other language with everything typed, nothing checked, nothing filed.
#[tokio::test]
async fn the_report_forms_language_switch_keeps_what_was_typed() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let html = app.client.get(format!("{}/report?lang=en", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(
            "form=\"report-form\" formaction=\"/report?lang=nl\" formnovalidate name=\"switch_lang\" value=\"nl\""
        ),
        "{html}"
    );
    let binding = "0123456789abcdef0123456789abcdef";
    let r = app
        .client
        .post(format!("{}/report?lang=nl", app.base))
        .header("accept", BROWSER)
        .header("cookie", format!("{}={binding}", csrf::COOKIE))
        .form(&[
            ("csrf", csrf::token(binding)),
            ("switch_lang", "nl".into()),
            ("locations", "https://example.com/half/1".into()),
            ("what", "deepfake".into()),
            ("explanation", "Half typed".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"nl\">"), "{html}");
    assert!(html.contains("https://example.com/half/1") && html.contains(">Half typed</textarea>"), "{html}");
    assert!(html.contains("value=\"deepfake\" checked"), "{html}");
    assert!(!html.contains("error-summary"), "nothing is checked: {html}");
    assert!(html.contains("formaction=\"/report?lang=en\""), "and back again: {html}");
    assert_eq!(app.store().count_notices().await.unwrap(), 0, "nothing is filed");
}

/// The error pages a person may meet, in both languages: an unknown address (404), a report form
/// over the body limit (413: a page, not axum's plain text), and a form whose token no longer
/// fits after a long pause or a restart (400: the form again, everything typed kept, saying so).
#[tokio::test]
async fn error_pages_read_in_both_languages() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let big = "a".repeat(staydown_server::pages::REPORT_FORM_LIMIT + 1);
    for (lang, not_found, too_much, expired) in [
        ("en", "<h1>Page not found</h1>", "<h1>Too much data</h1>", "This form had expired. Nothing you typed is lost"),
        (
            "nl",
            "<h1>Pagina niet gevonden</h1>",
            "<h1>Te veel gegevens</h1>",
            "Dit formulier was verlopen. Wat u typte is niet verloren",
        ),
    ] {
        let get = app.client.get(format!("{}/no-such-page?lang={lang}", app.base)).header("accept", BROWSER);
        let r = get.send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains(not_found));

        let post = |body: Vec<(&'static str, String)>| {
            app.client
                .post(format!("{}/report?lang={lang}", app.base))
                .header("accept", BROWSER)
                .header("cookie", format!("{}=0123456789abcdef0123456789abcdef", csrf::COOKIE))
                .form(&body)
                .send()
        };
        let r = post(vec![("explanation", big.clone())]).await.unwrap();
        assert_eq!(r.status(), 413);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains(too_much));

        // A token made for another binding (an old cookie, or a restart with a new key).
        let stale = csrf::token("fedcba9876543210fedcba9876543210");
        let r = post(vec![("csrf", stale), ("explanation", "Typed before the pause.".to_owned())]).await.unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains(expired) && html.contains("Typed before the pause."), "{html}");
    }
}
