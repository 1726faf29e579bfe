//! Removal requests that a person sends by hand (a letter the victim posts, a web form the
//! caseworker fills in) count from when they were really sent, and one URL has one open request
//! per platform (issue 13: the helpline's figures must say how long platforms took).

use serde_json::json;
use staydown_domain::roles::Role;
use time::format_description::well_known::Rfc3339;

use crate::helpline::{caseworker, league_row, open_case, request_body};
use crate::staff_pages::{account, page, post_form, sign_in};
use crate::support::{each_backend, error_fields};

#[tokio::test]
async fn a_letter_counts_from_when_it_was_posted_and_a_url_has_one_open_request() {
    each_backend(|app| async move {
        let cw = caseworker(&app).await;
        let (status, p) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "L", "channel": "letter"}), Some(&cw)).await;
        assert_eq!(status, 201, "{p}");
        let platform = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&app, &cw).await;
        let requests = format!("/api/v1/helpline/cases/{case_id}/requests");
        let body = request_body(&platform, "https://l.example/p/1");
        let (status, request) = app.post(&requests, &body, Some(&cw)).await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_str().expect("id").to_owned();
        assert_eq!(request["state"], "drafted", "the victim has not posted the letter yet: {request}");
        assert!(request["sent_at"].is_null() && request["answer_due_at"].is_null(), "{request}");

        // No answer can come before the letter goes, and the same URL is not asked twice.
        let answer = format!("/api/v1/helpline/requests/{id}/answer");
        let (status, _) = app.post(&answer, &json!({"state": "removed"}), Some(&cw)).await;
        assert_eq!(status, 409);
        let (status, twice) = app.post(&requests, &body, Some(&cw)).await;
        assert_eq!(status, 422, "{twice}");
        assert_eq!(error_fields(&twice), ["url"]);
        assert!(twice.to_string().contains("already_open") && twice.to_string().contains(&id), "{twice}");

        // Posted two days after the draft; the caseworker records it later.
        let drafted =
            time::OffsetDateTime::parse(request["drafted_at"].as_str().expect("drafted"), &Rfc3339).expect("time");
        app.advance(time::Duration::days(4));
        let sent = format!("/api/v1/helpline/requests/{id}/sent");
        let fmt = |t: time::OffsetDateTime| t.format(&Rfc3339).expect("format");
        for (at, code) in [
            (fmt(drafted - time::Duration::hours(1)), "before_draft"),
            (fmt(drafted + time::Duration::days(5)), "in_future"),
            ("yesterday".to_owned(), "invalid"),
        ] {
            let (status, bad) = app.post(&sent, &json!({"at": at}), Some(&cw)).await;
            assert_eq!(status, 422, "{at}: {bad}");
            assert!(bad.to_string().contains(code), "{at}: {bad}");
        }
        let posted = drafted + time::Duration::days(2);
        let (status, marked) = app.post(&sent, &json!({"at": fmt(posted)}), Some(&cw)).await;
        assert_eq!(status, 200, "{marked}");
        assert_eq!(marked["state"], "sent");
        let sent_at = time::OffsetDateTime::parse(marked["sent_at"].as_str().expect("sent"), &Rfc3339).expect("time");
        assert_eq!(sent_at.unix_timestamp(), posted.unix_timestamp());
        let due = time::OffsetDateTime::parse(marked["answer_due_at"].as_str().expect("due"), &Rfc3339).expect("time");
        assert!(due > posted, "the answer is due after the letter went: {marked}");
        let (status, _) = app.post(&sent, &json!({}), Some(&cw)).await;
        assert_eq!(status, 409, "a request is sent once");

        // Removed 30 hours after the letter went: the league counts 30, not the 78 since the draft.
        let removed = posted + time::Duration::hours(30);
        let (status, answered) = app.post(&answer, &json!({"state": "removed", "at": fmt(removed)}), Some(&cw)).await;
        assert_eq!(status, 200, "{answered}");
        assert!((answered["hours_to_removal"].as_f64().expect("hours") - 30.0).abs() < 0.01, "{answered}");
        let (_, league) = app.get("/api/v1/helpline/league", Some(&cw)).await;
        let hours = league_row(&league, "L")["median_hours_to_removal"].as_f64().expect("hours");
        assert!((hours - 30.0).abs() < 0.01, "{league}");

        // Once that request has its answer, the URL may be asked about again (it came back).
        let (status, again) = app.post(&requests, &body, Some(&cw)).await;
        assert_eq!(status, 201, "{again}");

        let audit = app.store().audit_for(&format!("helpline_request:{id}")).await.expect("audit");
        let sent_entries: Vec<_> = audit.iter().filter(|e| e.action == "helpline.request_sent").collect();
        assert_eq!(sent_entries.len(), 1, "sent once, audited once: {audit:?}");
        let drafted_by = &audit.iter().find(|e| e.action == "helpline.request_drafted").expect("drafted").actor;
        assert_eq!(&sent_entries[0].actor, drafted_by, "the caseworker who marked it: {audit:?}");
    })
    .await;
}

/// The caseworker's page: a web-form request shows the platform's form and a "mark as sent" form
/// until it is sent; a date in the future is an error beside the field; then the answer form.
#[tokio::test]
async fn the_case_page_marks_a_web_form_request_sent() {
    each_backend(|app| async move {
        let cw = caseworker(&app).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "carla", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&app, "carla").await;
        let (status, p) = app
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "W", "web_form_url": "https://w.example/report-abuse"}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let case_id = open_case(&app, &cw).await;
        let (status, request) = app
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &request_body(p["id"].as_str().expect("id"), "https://w.example/p/9"),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_str().expect("id");
        let case_page = format!("/staff/helpline/cases/{case_id}");
        let action = format!("action=\"/staff/helpline/requests/{id}/sent\"");
        let (status, _, body) = page(&app, &case_page, Some(&cookie)).await;
        assert_eq!(status, 200);
        assert!(body.contains(&action) && body.contains("https://w.example/report-abuse"), "{body}");
        assert!(!body.contains(&format!("/staff/helpline/requests/{id}/answer")), "no answer before it is sent");
        assert!(body.contains("Time in Europe/Amsterdam."), "the form says which clock it reads: {body}");
        assert!(body.contains("— art. 254ba Wetboek van Strafrecht</dd>"), "the ground by its title: {body}");

        let sent = format!("/staff/helpline/requests/{id}/sent");
        let (status, _, body) = post_form(&app, &sent, &cookie, &[("csrf", &csrf), ("at", "2999-01-01T10:00")]).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.contains(&format!("id=\"sent-{id}-at-error\"")) && body.contains("aria-invalid=\"true\""),
            "{body}"
        );
        assert!(body.contains("value=\"2999-01-01T10:00\""), "the typed date is kept");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["state"], "drafted", "an error changes nothing: {r}");

        let (status, location, _) = post_form(&app, &sent, &cookie, &[("csrf", &csrf), ("at", "")]).await;
        assert_eq!((status, location), (303, format!("{case_page}#request-{id}")));
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["state"], "sent", "{r}");
        let (_, _, body) = page(&app, &case_page, Some(&cookie)).await;
        assert!(!body.contains(&action), "sent once");
        assert!(body.contains(&format!("/staff/helpline/requests/{id}/answer")), "now its answer can be recorded");
        // The same form sent again (double submit, or back and send): a readable page, not JSON.
        let (status, _, body) = post_form(&app, &sent, &cookie, &[("csrf", &csrf), ("at", "")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("This request has changed") && !body.contains("\"status\""), "{body}");
        // An answer dated before the request went out is a field error (it would count a negative
        // time to removal); nothing is recorded.
        let answer = format!("/staff/helpline/requests/{id}/answer");
        let before = (time::OffsetDateTime::now_utc() - time::Duration::days(1)).format(&MINUTE).unwrap();
        let (status, _, body) =
            post_form(&app, &answer, &cookie, &[("csrf", &csrf), ("state", "removed"), ("at", &before)]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("The answer cannot come before the request was sent."), "{body}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["state"], "sent", "{r}");
        // The league table's period includes its last day: today's request counts by default and
        // with today as both ends.
        let today = time::OffsetDateTime::now_utc().date().to_string();
        for query in [String::new(), format!("?from={today}&to={today}")] {
            let (status, _, league) = page(&app, &format!("/staff/helpline/league{query}"), Some(&cookie)).await;
            assert_eq!(status, 200);
            assert!(league.contains("<td>W</td>") || league.contains(">W<"), "{query}: {league}");
            assert!(league.contains(&format!("value=\"{today}\"")), "the last day shown as chosen: {league}");
        }
    })
    .await;
}

/// `YYYY-MM-DDTHH:MM`, as a `datetime-local` field sends it.
const MINUTE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// The helpline's forms name the field of each error in the summary, in the form's order, mark
/// every invalid control (selects too), and refuse a phone number that is not one.
#[tokio::test]
async fn helpline_form_errors_name_their_fields_and_mark_their_controls() {
    let app = crate::support::TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let cw = caseworker(&app).await;
    let admin = app.key(Role::Admin, "admin").await;
    account(&app, &admin, "cora", Role::Caseworker).await;
    let (cookie, csrf) = sign_in(&app, "cora").await;
    let (status, _, body) = post_form(
        &app,
        "/staff/helpline/cases",
        &cookie,
        &[("csrf", &csrf), ("summary", ""), ("phone", "abc"), ("email", "not-an-address")],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let summary = &body[body.find("id=\"error-summary\"").expect("summary")..];
    let summary = &summary[..summary.find("</div>").expect("end")];
    let lines: Vec<usize> = [
        "href=\"#summary\">What happened, in a few sentences: ",
        "href=\"#email\">E-mail",
        "href=\"#phone\">Phone number: ",
    ]
    .iter()
    .map(|l| summary.find(l).unwrap_or_else(|| panic!("{l} in {summary}")))
    .collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "in the form's order: {summary}");
    // The reasons say what a valid value looks like, not only that this one is not.
    assert!(summary.contains("Phone number: Type a phone number: 6 to 20 digits"), "{summary}");
    assert!(summary.contains("Type an e-mail address, such as name@example.nl."), "{summary}");
    assert!(body.contains("id=\"phone\" name=\"phone\" value=\"abc\""), "what was typed is kept: {body}");
    assert!(body.contains("aria-invalid=\"true\" aria-describedby=\"phone-error\""), "{body}");

    let (status, p) =
        app.post("/api/v1/helpline/platforms", &json!({"name": "S", "email": "abuse@s.example"}), Some(&cw)).await;
    assert_eq!(status, 201, "{p}");
    let case_id = open_case(&app, &cw).await;
    let requests = format!("/staff/helpline/cases/{case_id}/requests");
    let platform = p["id"].as_str().expect("id");
    let (status, _, body) = post_form(
        &app,
        &requests,
        &cookie,
        &[
            ("csrf", &csrf),
            ("platform", platform),
            ("url", "https://s.example/p/1"),
            ("category", "STATEMENT_CATEGORY_NOT_ONE"),
            ("legal_ground", "nl-sr-254ba"),
            ("explanation", "An intimate image shared without consent."),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("href=\"#req-category\">Category (in the platform&#39;s terms): "), "{body}");
    assert!(
        body.contains(
            "id=\"req-category\" name=\"category\" aria-invalid=\"true\" aria-describedby=\"req-category-error\""
        ),
        "{body}"
    );
}

/// The intake and referral forms sent twice (a double click, a reload of the answer) record
/// once: the second send lands where the first did.
#[tokio::test]
async fn helpline_forms_sent_twice_record_once() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "cees", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&app, "cees").await;
        let submission_of = |html: &str| {
            let needle = "name=\"submission\" value=\"";
            let at = html.find(needle).expect("the form carries a submission value") + needle.len();
            html[at..at + 32].to_owned()
        };
        let (_, _, form) = page(&app, "/staff/helpline/cases/new", Some(&cookie)).await;
        let submission = submission_of(&form);
        let fields =
            [("csrf", csrf.as_str()), ("submission", &submission), ("summary", "A deepnude shared in a class chat.")];
        let (first, second) = tokio::join!(
            post_form(&app, "/staff/helpline/cases", &cookie, &fields),
            post_form(&app, "/staff/helpline/cases", &cookie, &fields)
        );
        assert_eq!(first.0, 303);
        assert_eq!((second.0, &second.1), (303, &first.1), "both land on the one case");
        let now = time::OffsetDateTime::now_utc();
        let cases = app.store().help_cases(now - time::Duration::days(1), now + time::Duration::days(1)).await.unwrap();
        assert_eq!(cases.len(), 1, "{cases:?}");
        let case_page = first.1.clone();

        let (_, _, html) = page(&app, &case_page, Some(&cookie)).await;
        let submission = submission_of(&html[html.find("/referrals\"").expect("the referral form")..]);
        let refer = format!("{case_page}/referrals");
        let fields = [("csrf", csrf.as_str()), ("submission", &submission), ("kind", "police")];
        for _ in 0..2 {
            let (status, _, _) = post_form(&app, &refer, &cookie, &fields).await;
            assert_eq!(status, 303);
        }
        assert_eq!(app.store().helpline_referrals(&cases[0].id).await.unwrap().len(), 1);
    })
    .await;
}

/// An evidence form sent twice (a double click, a reload of the answer) stores the file once,
/// although a browser writes a new multipart boundary on every send; another file from the same
/// page is stored. The list says what each file is in the page language, with a readable size, and
/// a file over the limit is an error beside the file field, not the API's problem+json.
#[tokio::test]
async fn an_evidence_upload_sent_twice_stores_the_file_once() {
    each_backend(|first| async move {
        let keyring =
            staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).expect("keys");
        let app = crate::support::TestApp::start_with(
            first.backend,
            staydown_server::Settings { vault: Some(keyring), ..crate::helpline::helpline_settings() },
        )
        .await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "cees", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&app, "cees").await;
        let cw = caseworker(&app).await;
        let case_id = open_case(&app, &cw).await;
        let case_page = format!("/staff/helpline/cases/{case_id}");
        let (_, _, html) = page(&app, &case_page, Some(&cookie)).await;
        let form = &html[html.find("/evidence\" enctype").expect("the evidence form")..];
        let needle = "name=\"submission\" value=\"";
        let at = form.find(needle).expect("the evidence form carries a submission value") + needle.len();
        let submission = form[at..at + 32].to_owned();
        let upload = |boundary: &'static str, file: Vec<u8>| {
            let mut body = Vec::new();
            for (name, value) in [("csrf", csrf.as_str()), ("submission", submission.as_str()), ("kind", "screenshot")] {
                body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
            }
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"shot.png\"\r\nContent-Type: image/png\r\n\r\n"
                )
                .bytes(),
            );
            body.extend(file);
            body.extend(format!("\r\n--{boundary}--\r\n").bytes());
            crate::staff_pages::browser()
                .post(format!("{}{case_page}/evidence", app.base))
                .header("cookie", &cookie)
                .header("accept", "text/html")
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(body)
                .send()
        };
        let shot = b"\x89PNG a screenshot of the post".to_vec();
        let (one, two) = tokio::join!(upload("----first-send-3f9a", shot.clone()), upload("----second-send-77c1", shot.clone()));
        let (one, two) = (one.expect("send"), two.expect("send"));
        assert_eq!((one.status().as_u16(), two.status().as_u16()), (303, 303));
        assert_eq!(one.headers()["location"], two.headers()["location"], "both land on the case page");
        let evidence = format!("/api/v1/helpline/cases/{case_id}/evidence");
        assert_eq!(app.get(&evidence, Some(&cw)).await.1.as_array().expect("list").len(), 1, "stored once");
        // A reload of the answer later still lands on the case page, storing nothing.
        assert_eq!(upload("----third-send-0000", shot.clone()).await.expect("send").status().as_u16(), 303);
        assert_eq!(app.get(&evidence, Some(&cw)).await.1.as_array().expect("list").len(), 1);
        // Another file from the same page is another piece of evidence.
        let other = b"\x89PNG another screenshot".to_vec();
        assert_eq!(upload("----other-file-1111", other).await.expect("send").status().as_u16(), 303);
        assert_eq!(app.get(&evidence, Some(&cw)).await.1.as_array().expect("list").len(), 2);

        let dutch = format!("{cookie}; {}=nl", staydown_server::pages::i18n::LANG_COOKIE);
        let (_, _, html) = page(&app, &case_page, Some(&dutch)).await;
        let table = &html[html.find("id=\"evidence-h\"").expect("evidence")..];
        let table = &table[..table.find("</table>").expect("the evidence table")];
        assert!(table.contains("<td>Schermafbeelding</td>") && !table.contains(">screenshot<"), "{table}");
        assert!(table.contains(&format!("<td>{} bytes</td>", shot.len())), "{table}");
        // The file's type is in words, not the media type the browser sent.
        assert!(table.contains("<td>Foto (PNG)</td>") && !table.contains("image/png"), "{table}");

        // Over the limit: the case page with the reason beside the file field.
        let big = vec![0u8; staydown_server::api::helpline::MAX_EVIDENCE_BYTES + 1];
        let resp = upload("----too-big-2222", big).await.expect("send");
        assert_eq!(resp.status().as_u16(), 422);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = resp.text().await.expect("text");
        assert!(html.contains("larger than 20 MB") && html.contains("aria-invalid=\"true\""), "{html}");
        assert_eq!(app.get(&evidence, Some(&cw)).await.1.as_array().expect("list").len(), 2, "nothing stored");
    })
    .await;
}

/// The removal-request form sent twice files one request and both sends land on the case page
/// (before, the second got an "already open" error for the request the first had just filed); a
/// form about a request that does not exist is the console's 404 page, not problem+json.
#[tokio::test]
async fn a_removal_request_form_sent_twice_files_one_request() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "cees", Role::Caseworker).await;
        let (cookie, csrf) = sign_in(&app, "cees").await;
        let cw = caseworker(&app).await;
        let (status, p) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "L", "channel": "letter"}), Some(&cw)).await;
        assert_eq!(status, 201, "{p}");
        let platform = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&app, &cw).await;
        let case_page = format!("/staff/helpline/cases/{case_id}");
        let (_, _, html) = page(&app, &case_page, Some(&cookie)).await;
        let form = &html[html.find("/requests\" novalidate").expect("the request form")..];
        let needle = "name=\"submission\" value=\"";
        let at = form.find(needle).expect("the request form carries a submission value") + needle.len();
        let submission = form[at..at + 32].to_owned();
        let fields = [
            ("csrf", csrf.as_str()),
            ("submission", &submission),
            ("platform", &platform),
            ("url", "https://l.example/p/1"),
            ("category", "STATEMENT_CATEGORY_CYBER_VIOLENCE"),
            ("legal_ground", "nl-sr-254ba"),
            ("explanation", "An AI-generated nude image of a pupil, published without her consent."),
        ];
        let path = format!("{case_page}/requests");
        let (first, second) =
            tokio::join!(post_form(&app, &path, &cookie, &fields), post_form(&app, &path, &cookie, &fields));
        assert_eq!(first.0, 303, "{}", first.2);
        assert_eq!((second.0, &second.1), (303, &first.1), "both land on the case page: {}", second.2);
        let (_, case) = app.get(&format!("/api/v1/helpline/cases/{case_id}"), Some(&cw)).await;
        assert_eq!(case["requests"].as_array().expect("requests").len(), 1, "{case}");

        let (status, _, html) = post_form(
            &app,
            "/staff/helpline/requests/no-such-request/answer",
            &cookie,
            &[("csrf", &csrf), ("state", "removed")],
        )
        .await;
        assert_eq!(status, 404);
        assert!(html.contains("<html") && !html.contains("problem"), "{html}");
    })
    .await;
}

/// Hours on the case page and the league table have a decimal comma on Dutch pages, the
/// league's period is written out in words, and a URL never checked says so.
#[tokio::test]
async fn dutch_helpline_pages_write_hours_and_periods_the_dutch_way() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "cees", Role::Caseworker).await;
        let cw = caseworker(&app).await;
        let (_, p) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "L", "channel": "letter"}), Some(&cw)).await;
        let platform = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&app, &cw).await;
        let (status, request) = app
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &request_body(&platform, "https://l.example/p/2"),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_str().expect("id").to_owned();
        let (status, sent) = app.post(&format!("/api/v1/helpline/requests/{id}/sent"), &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{sent}");
        let sent_at = time::OffsetDateTime::parse(sent["sent_at"].as_str().expect("sent"), &Rfc3339).expect("time");
        app.advance(time::Duration::hours(2));
        let removed = (sent_at + time::Duration::minutes(90)).format(&Rfc3339).expect("format");
        let (status, answered) = app
            .post(
                &format!("/api/v1/helpline/requests/{id}/answer"),
                &json!({"state": "removed", "at": removed}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 200, "{answered}");

        // Signed in after the clock moved (sessions end after 30 idle minutes).
        let (cookie, _) = sign_in(&app, "cees").await;
        let dutch = format!("{cookie}; {}=nl", staydown_server::pages::i18n::LANG_COOKIE);
        let (_, _, case_page) = page(&app, &format!("/staff/helpline/cases/{case_id}"), Some(&dutch)).await;
        assert!(case_page.contains("<td>1,5</td>") && !case_page.contains("<td>1.5</td>"), "{case_page}");
        assert!(case_page.contains("nog niet gecontroleerd") && !case_page.contains("— (—)"), "{case_page}");
        // The console says "je" to a colleague, and the photos are not the caseworker's own.
        assert!(case_page.contains("Je kunt meerdere foto") && !case_page.contains("U kunt"), "{case_page}");
        assert!(!case_page.contains("uw foto"), "{case_page}");
        let (status, _, league) = page(&app, "/staff/helpline/league", Some(&dutch)).await;
        assert_eq!(status, 200);
        assert!(league.contains("<td>1,5</td>") && !league.contains("1.5"), "{league}");
        let year = app.state.now().year();
        assert!(league.contains(&format!("Van 1 januari {year} tot en met ")), "{league}");
        // Bad dates in the address: each reason names its field and sits beside it.
        let (status, _, bad) = page(&app, "/staff/helpline/league?from=2026-13-01&to=soon", Some(&dutch)).await;
        assert_eq!(status, 422, "{bad}");
        assert!(bad.contains("<a href=\"#from\">Van: ") && bad.contains("<a href=\"#to\">Tot en met: "), "{bad}");
        assert!(bad.contains("aria-describedby=\"from-error\"") && bad.contains("id=\"to-error\""), "{bad}");
        let (_, _, english) = page(&app, "/staff/helpline/league", Some(&cookie)).await;
        assert!(
            english.contains("<td>1.5</td>") && english.contains(&format!("From 1 January {year} up to ")),
            "{english}"
        );
    })
    .await;
}
