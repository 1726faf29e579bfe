//! The staff console's review pages (issue 12): every page × every role + anonymous, session
//! fixation at the sign-in page, CSRF on the page forms, the sign-in page's throttling, and the
//! reveal and content reads in the audit log.

use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::staff_pages::{PASSWORD, account, browser, page, post_form, sign_in, switch_link};
use crate::support::{TestApp, each_backend, notice, removal};

/// A vault for attached content.
fn vault_settings() -> staydown_server::Settings {
    let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
    staydown_server::Settings {
        public_url: "http://staydown.test".into(),
        vault: Some(keyring),
        ..staydown_server::Settings::default()
    }
}

/// A 64×64 PNG (content for the case).
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Posts the page's upload form (multipart: the token first, then the PNG).
async fn upload(app: &TestApp, case: &str, cookie: &str, csrf: &str) -> reqwest::Response {
    let (content_type, body) = crate::staff_pages::multipart(&[("csrf", csrf)], ("file", "x.png", "image/png", &png()));
    browser()
        .post(format!("{}/staff/cases/{case}/content", app.base))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The data every page needs: an open case with attached content, a decided case with an open
/// appeal. Returns (open case, content item, appeal).
async fn seed(app: &TestApp) -> (String, String, String) {
    let reviewer = app.staff(Role::Reviewer, "seed-reviewer").await;
    app.file(&notice("https://example.com/decided.jpg"), None).await;
    let decided = app.only_case(&reviewer).await;
    let (status, decision) = app.post(&format!("/api/v1/cases/{decided}/decision"), &removal(), Some(&reviewer)).await;
    assert_eq!(status, 201, "{decision}");
    let (status, appeal) = app
        .post(
            &format!("/api/v1/decisions/{}/appeals", decision["id"].as_str().unwrap()),
            &json!({"token": decision["uploader_appeal_token"], "reason": "This is a photo of me that I posted myself."}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    app.file(&notice("https://example.com/open.jpg"), None).await;
    let open = app.only_case(&reviewer).await;
    let (status, item) = app
        .post_multipart(&format!("/api/v1/cases/{open}/content"), &[("file", Some("c.png"), &png())], Some(&reviewer))
        .await;
    assert_eq!(status, 201, "{item}");
    (open, item["id"].as_str().unwrap().to_owned(), appeal["id"].as_str().unwrap().to_owned())
}

/// Every console page of the review work, with the roles that may open it. Other parts of the
/// console add their rows here (`{case}`, `{item}` and `{appeal}` are filled in by the test).
const PAGES: &[(&str, &[Role])] = &[
    ("/staff/queue", &[Role::Reviewer, Role::SeniorReviewer, Role::Admin]),
    ("/staff/cases/{case}", &[Role::Reviewer, Role::SeniorReviewer, Role::Admin]),
    ("/staff/cases/{case}/content/{item}?purpose=preview", &[Role::Reviewer, Role::SeniorReviewer, Role::Admin]),
    ("/staff/appeals", &[Role::Reviewer, Role::SeniorReviewer, Role::Admin]),
    ("/staff/appeals/{appeal}", &[Role::Reviewer, Role::SeniorReviewer, Role::Admin]),
    // Helpline mode (issue 13): case work for caseworkers only; the figures also for admins and auditors.
    ("/staff/helpline", &[Role::Caseworker]),
    ("/staff/helpline/cases/new", &[Role::Caseworker]),
    ("/staff/helpline/platforms", &[Role::Caseworker]),
    ("/staff/helpline/league", &[Role::Caseworker, Role::Admin, Role::Auditor]),
];

/// Every page × every role + anonymous: 200 for the roles of the table, a readable 403 page for
/// the others, and a redirect to the sign-in page (with the page to return to) without a session.
#[tokio::test]
async fn every_console_page_for_every_role_and_anonymous() {
    each_backend(|app| async move {
        let app = TestApp::start_with(app.backend, vault_settings()).await;
        let (case, item, appeal) = seed(&app).await;
        let admin = app.key(Role::Admin, "admin").await;
        // Staff roles sign in; the others (trusted flaggers, authorities, platforms) have API keys
        // only, and a key is no session: the pages send them to the sign-in page.
        let mut sessions = Vec::new();
        let mut keys = Vec::new();
        for role in Role::ALL {
            if matches!(role, Role::TrustedFlagger | Role::Authority | Role::Platform) {
                keys.push((role, app.key(role, &format!("k-{}", role.as_str())).await));
                continue;
            }
            let name = format!("u-{}", role.as_str());
            account(&app, &admin, &name, role).await;
            sessions.push((role, sign_in(&app, &name).await.0));
        }
        assert_eq!(sessions.len() + keys.len(), Role::ALL.len());
        for (template, roles) in PAGES {
            let path = template.replace("{case}", &case).replace("{item}", &item).replace("{appeal}", &appeal);
            let (status, location, _) = page(&app, &path, None).await;
            assert_eq!(status, 303, "anonymous {path}");
            let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            assert_eq!(location, format!("/staff/login?next={next}"), "anonymous {path}");
            for (role, key) in &keys {
                let resp = browser()
                    .get(format!("{}{path}", app.base))
                    .header("accept", "text/html")
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 303, "{role:?} key on {path}");
                assert!(resp.headers()["location"].to_str().unwrap().starts_with("/staff/login?next="));
            }
            for (role, cookie) in &sessions {
                let (status, _, body) = page(&app, &path, Some(cookie)).await;
                if roles.contains(role) {
                    assert_eq!(status, 200, "{role:?} {path}");
                } else {
                    assert_eq!(status, 403, "{role:?} {path}");
                    assert!(body.contains("<h1>Not available for your role</h1>"), "{role:?} {path}: {body}");
                }
            }
        }
        // The sign-in page itself is open to everyone.
        assert_eq!(page(&app, "/staff/login", None).await.0, 200);
    })
    .await;
}

/// `/staff` (where sign-in lands without a `next`, and where the logo and "back" links go) takes
/// each role to the first page it may see: caseworkers and auditors never land on a 403 page.
#[tokio::test]
async fn the_start_page_is_the_first_page_each_role_may_see() {
    let app = TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let admin = app.key(Role::Admin, "admin").await;
    for (role, want) in [
        (Role::Reviewer, "/staff/queue"),
        (Role::Caseworker, "/staff/helpline"),
        (Role::Auditor, "/staff/dashboard"),
        (Role::Admin, "/staff/queue"),
    ] {
        let name = format!("start-{}", role.as_str());
        account(&app, &admin, &name, role).await;
        let (cookie, _) = sign_in(&app, &name).await;
        let (status, location, _) = page(&app, "/staff", Some(&cookie)).await;
        assert_eq!((status, location.as_str()), (303, want), "{role:?}");
        assert_eq!(page(&app, want, Some(&cookie)).await.0, 200, "{role:?} may see {want}");
    }
    let (status, location, _) = page(&app, "/staff", None).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/staff/login"), "{location}");
}

/// Session fixation at the sign-in page: the id the browser arrived with is never the signed-in
/// id, and that old cookie opens nothing afterwards.
#[tokio::test]
async fn sign_in_gives_a_new_session_id_and_the_old_cookie_is_useless() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "fay", Role::Reviewer).await;
        let (first, _) = sign_in(&app, "fay").await;
        assert_eq!(page(&app, "/staff/queue", Some(&first)).await.0, 200);
        // Signing in again from a browser that carries `first` (or a planted id).
        let resp = browser()
            .post(format!("{}/staff/login", app.base))
            .header("cookie", &first)
            .form(&[("username", "fay"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        let second = crate::staff_pages::session_cookie(&resp);
        assert_ne!(first, second, "a new id at every sign-in");
        let (status, location, _) = page(&app, "/staff/queue", Some(&first)).await;
        assert_eq!((status, location.as_str()), (303, "/staff/login?next=%2Fstaff%2Fqueue"), "the old id is dead");
        assert_eq!(page(&app, "/staff/queue", Some(&second)).await.0, 200);
        // A real browser sends `Origin: null` on this site's forms (no-referrer); what it says in
        // `Sec-Fetch-Site` decides: same-origin is let in, cross-site is not.
        for (site, expected) in [("same-origin", 303), ("cross-site", 403)] {
            let resp = browser()
                .post(format!("{}/staff/login", app.base))
                .header("origin", "null")
                .header("sec-fetch-site", site)
                .form(&[("username", "fay"), ("password", PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), expected, "{site}");
        }
        let planted = "staydown_staff=0000000000000000000000000000000000000000000000000000000000000000";
        assert_eq!(page(&app, "/staff/queue", Some(planted)).await.0, 303);
    })
    .await;
}

/// Page forms without the session's token (missing or wrong) get the readable 403 page and change
/// nothing: take, decide, reveal, Art. 18, upload, appeal, sign-out.
#[tokio::test]
async fn page_forms_without_the_sessions_token_change_nothing() {
    each_backend(|app| async move {
        let app = TestApp::start_with(app.backend, vault_settings()).await;
        let (case, _item, appeal) = seed(&app).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "sam", Role::SeniorReviewer).await;
        let (cookie, csrf) = sign_in(&app, "sam").await;
        let audit_before = app.store().audit_for(&format!("case:{case}")).await.unwrap().len();
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/staff/cases/{case}/take"), vec![]),
            (format!("/staff/cases/{case}/decision"), vec![("explanation", "No action: not intimate imagery.")]),
            (
                format!("/staff/cases/{case}/art18"),
                vec![("grounds", "threat_to_life"), ("explanation", "A threat to kill.")],
            ),
            (format!("/staff/appeals/{appeal}/decision"), vec![("outcome", "upheld"), ("reasons", "It stands.")]),
            ("/staff/logout".to_owned(), vec![]),
        ];
        for (path, fields) in &forms {
            for token in [None, Some("0".repeat(64)), Some(format!("{csrf}x"))] {
                let mut form = fields.clone();
                if let Some(t) = &token {
                    form.push(("csrf", t));
                }
                let (status, _, body) = post_form(&app, path, &cookie, &form).await;
                assert_eq!(status, 403, "{path} with {token:?}");
                assert!(body.contains("The form has expired"), "{path}: {body}");
                // The language switch leads to the page the form is on, not to the POST-only address.
                let switch = switch_link(&body, "nl");
                let (mut status, location, mut dutch) = page(&app, &switch, Some(&cookie)).await;
                if status == 303 {
                    // `/staff` (after the sign-out form) sends each role to its first page.
                    (status, _, dutch) = page(&app, &location, Some(&cookie)).await;
                }
                assert_eq!(status, 200, "{path}: the switch {switch}");
                assert!(dutch.contains("<html lang=\"nl\">"), "{path}: the switch {switch}: {dutch}");
                if path.starts_with("/staff/cases/") && path.ends_with("/decision") {
                    assert!(body.contains("No action: not intimate imagery."), "what was typed comes back: {body}");
                    assert!(body.contains(&format!("value=\"{csrf}\"")), "with the session's token to send again");
                }
            }
        }
        // The notifier's reveal: no token, no contact details and no audit entry.
        let notice_id = app.store().case_notices(&case).await.unwrap()[0].id.clone();
        let (status, _, body) =
            post_form(&app, &format!("/staff/cases/{case}/notices/{notice_id}/reveal"), &cookie, &[]).await;
        assert_eq!(status, 403);
        assert!(!body.contains("@"), "no contact details shown");
        // The upload form without a token stores nothing.
        let resp = upload(&app, &case, &cookie, "wrong").await;
        assert_eq!(resp.status().as_u16(), 403);
        assert_eq!(app.store().content_items_for_case(&case).await.unwrap().len(), 1, "only the seeded item");
        // Nothing changed: still open, not taken, no decision, no Art. 18, the appeal open, signed in.
        assert!(app.store().case_summary(&case).await.unwrap().unwrap().state.is_open());
        assert_eq!(app.store().case_assignment(&case).await.unwrap().and_then(|(a, _)| a), None);
        assert!(app.store().case_decisions(&case).await.unwrap().is_empty());
        assert!(app.store().art18_notifications(Some(&case)).await.unwrap().is_empty());
        assert_eq!(app.store().appeal(&appeal).await.unwrap().unwrap().state, "open");
        assert_eq!(app.store().audit_for(&format!("case:{case}")).await.unwrap().len(), audit_before);
        assert_eq!(page(&app, "/staff/queue", Some(&cookie)).await.0, 200, "still signed in");
        // With the token, the same take works.
        let (status, location, _) =
            post_form(&app, &format!("/staff/cases/{case}/take"), &cookie, &[("csrf", &csrf)]).await;
        assert_eq!((status, location), (303, format!("/staff/cases/{case}?taken=1")));
        assert!(app.store().case_assignment(&case).await.unwrap().and_then(|(a, _)| a).is_some());
    })
    .await;
}

/// The sign-in page is throttled: after five failures a readable 429 page with Retry-After, the
/// username typed kept, and the right password refused until the window passes.
#[tokio::test]
async fn the_sign_in_page_is_throttled_with_a_readable_429() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "tom", Role::Reviewer).await;
        for i in 0..5 {
            let resp = browser()
                .post(format!("{}/staff/login", app.base))
                .header("accept", "text/html")
                .form(&[("username", "tom"), ("password", "guess")])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 401, "failure {i}");
            let body = resp.text().await.unwrap();
            assert!(body.contains("The username or password is wrong"), "{body}");
            assert!(body.contains("value=\"tom\""), "the username is kept");
        }
        let resp = browser()
            .post(format!("{}/staff/login?lang=nl", app.base))
            .header("accept", "text/html")
            .form(&[("username", "tom"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 429);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("Te veel mislukte inlogpogingen"), "in Dutch: {body}");
        assert!(body.contains(&format!("over {retry} seconden")), "{body}");
        app.advance(time::Duration::minutes(16));
        sign_in(&app, "tom").await;
    })
    .await;
}

/// The reviewer's way through the pages, checked at the HTTP level: a notifier's contact revealed
/// (audited, shown only on that answer), the content read as a preview and as a reveal (both in
/// the custody log), a decision with errors beside the fields and the typed text kept, then a
/// removal through the page that banks the attached image.
#[tokio::test]
async fn reveals_and_content_reads_are_audited_and_the_decision_form_keeps_what_was_typed() {
    each_backend(|app| async move {
        let app = TestApp::start_with(app.backend, vault_settings()).await;
        let mut with_contact = notice("https://example.com/contact.jpg");
        with_contact["notifier"] = json!({"name": "Noor Notifier", "email": "noor@example.org"});
        app.file(&with_contact, None).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rob", Role::Reviewer).await;
        let (cookie, csrf) = sign_in(&app, "rob").await;
        let queue: Value = app.queue(&app.staff(Role::Reviewer, "helper").await).await.into();
        let case = queue[0]["case_id"].as_str().unwrap().to_owned();
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(body.contains("Contact details hidden."), "{body}");
        assert!(!body.contains("noor@example.org"), "hidden until revealed");
        let notice_id = app.store().case_notices(&case).await.unwrap()[0].id.clone();
        let (status, _, body) =
            post_form(&app, &format!("/staff/cases/{case}/notices/{notice_id}/reveal"), &cookie, &[("csrf", &csrf)])
                .await;
        assert_eq!(status, 200);
        assert!(body.contains("noor@example.org") && body.contains("Noor Notifier"), "{body}");
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(!body.contains("noor@example.org"), "shown on the reveal's answer only");
        let audit = app.store().audit_for(&format!("case:{case}")).await.unwrap();
        let reveal = audit.iter().find(|e| e.action == "notifier.revealed").expect("reveal audited");
        assert!(reveal.actor.starts_with("account:"), "{}", reveal.actor);
        assert!(!reveal.detail.contains("noor"), "the audit names the notice, never the details");
        // People read names, not stored codes: the user name, the state and legal ground in words.
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}?lang=nl"), Some(&cookie)).await;
        let audit_table = &body[body.find("id=\"audit-h\"").expect("audit section")..];
        assert!(audit_table.contains("<td>rob</td>") && !body.contains(&reveal.actor), "{audit_table}");
        assert!(!body.contains(">in_review<") && !body.contains(">new<"), "the state in words: {body}");

        // The reviewer uploads the content on the page; it shows blurred, then revealed.
        let resp = upload(&app, &case, &cookie, &csrf).await;
        assert_eq!(resp.status().as_u16(), 303);
        let item = app.store().content_items_for_case(&case).await.unwrap()[0].id.clone();
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(
            body.contains(&format!("class=\"preview\" src=\"/staff/cases/{case}/content/{item}?purpose=preview\"")),
            "{body}"
        );
        let (status, _, _) =
            page(&app, &format!("/staff/cases/{case}/content/{item}?purpose=preview"), Some(&cookie)).await;
        assert_eq!(status, 200);
        // The preview is a tiny grayscale rendition, never the original (opening it in a new tab
        // shows nothing the blurred page hides).
        let preview = browser()
            .get(format!("{}/staff/cases/{case}/content/{item}?purpose=preview", app.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec();
        assert_ne!(preview, png(), "the preview is not the uploaded image");
        let small = image::load_from_memory(&preview).expect("a PNG");
        assert!(small.width() <= staydown_server::staff::pages::case::PREVIEW_SIDE, "{}", small.width());
        assert!(small.height() <= staydown_server::staff::pages::case::PREVIEW_SIDE, "{}", small.height());
        assert_eq!(small.color(), image::ColorType::L8, "grayscale");
        let (_, _, body) =
            post_form(&app, &format!("/staff/cases/{case}/content/{item}/reveal"), &cookie, &[("csrf", &csrf)]).await;
        assert!(body.contains("class=\"preview revealed\""), "{body}");
        let resp = browser()
            .get(format!("{}/staff/cases/{case}/content/{item}?purpose=reveal", app.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "image/png");
        assert_eq!(resp.bytes().await.unwrap().to_vec(), png(), "the bytes as uploaded");
        let blob = app.store().content_item_blob(&case, &item).await.unwrap();
        let reads: Vec<String> = app
            .store()
            .audit_for(&format!("blob:{blob}"))
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "blob.read")
            .map(|e| e.detail)
            .collect();
        assert!(reads.iter().any(|d| d.contains("\"preview\"")), "{reads:?}");
        assert!(reads.iter().any(|d| d.contains("\"reveal\"")), "{reads:?}");

        // A removal without its ground and facts: errors beside the fields, in form order, typed kept.
        let decide = format!("/staff/cases/{case}/decision");
        let typed = "The person shown did not consent; the uploader is unknown to them.";
        let (status, _, body) = post_form(
            &app,
            &decide,
            &cookie,
            &[("csrf", &csrf), ("visibility", "removed"), ("explanation", typed), ("territorial_scope", "EEA")],
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(typed), "the explanation is kept");
        assert!(body.contains("id=\"d-vis-removed\" value=\"removed\" checked"), "the choice is kept");
        assert!(
            body.contains("aria-invalid=\"true\" aria-describedby=\"d-legal_ground-error\"")
                || body.contains("id=\"d-ground-error\""),
            "{body}"
        );
        let summary = &body[body.find("error-summary").unwrap()..];
        let ground = summary.find("#d-ground").expect("ground in the summary");
        let facts = summary.find("#d-facts").expect("facts in the summary");
        assert!(ground < facts, "the summary follows the form's order");
        assert!(app.store().case_decisions(&case).await.unwrap().is_empty());

        // The complete removal through the page: decided, and the uploaded image is banked.
        let (status, location, _) = post_form(
            &app,
            &decide,
            &cookie,
            &[
                ("csrf", &csrf),
                ("visibility", "removed"),
                ("ground", "illegal"),
                ("legal_ground", "nl-sr-254ba"),
                ("territorial_scope", "EEA"),
                ("content_date", "2026-01-05"),
                ("content_type", "image"),
                ("explanation", typed),
                ("facts", "A notice reported the image; the reviewer compared it with the report."),
            ],
        )
        .await;
        assert_eq!((status, location), (303, format!("/staff/cases/{case}?done=decided")));
        let decisions = app.store().case_decisions(&case).await.unwrap();
        assert_eq!(decisions.len(), 1);
        assert!(decisions[0].decided_by.starts_with("account:"));
        // The decided case reads in words: keywords by name, no "taken by nobody yet".
        let (_, _, decided) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(decided.contains("Non-consensual (intimate) image sharing"), "{decided}");
        assert!(!decided.contains("KEYWORD_") && !decided.contains("Nobody yet"), "{decided}");
        // The reviewer sees the statement of reasons the uploader receives, in the page language,
        // with its dates written out.
        let statement = &decided[decided.find("id=\"statement-").expect("the statement on the case page")..];
        assert!(statement.contains("The statement of reasons the uploader receives"), "{statement}");
        assert!(statement.contains("Decision by ") && statement.contains("DSA Art. 17"), "{statement}");
        let dutch = format!("{cookie}; {}=nl", staydown_server::pages::i18n::LANG_COOKIE);
        let (_, _, decided_nl) = page(&app, &format!("/staff/cases/{case}"), Some(&dutch)).await;
        let statement = &decided_nl[decided_nl.find("id=\"statement-").expect("the statement")..];
        let statement = &statement[..statement.find("</details>").expect("its end")];
        assert!(
            statement.contains("verklaring van redenen, DSA art. 17") && statement.contains(" kosteloos bezwaar"),
            "{statement}"
        );
        let iso = statement
            .as_bytes()
            .windows(10)
            .any(|w| w.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() }));
        assert!(!iso, "dates written out: {statement}");
        // The audit log names its actions in words.
        assert!(decided.contains("Case opened · ") && decided.contains("Case decided · "), "{decided}");
        assert!(decided.contains("File opened · ") && !decided.contains("case.decided ·"), "{decided}");
        assert!(decided_nl.contains("Over de zaak besloten · "), "{decided_nl}");
        // … and its details with labels in the page language, not the stored field names.
        assert!(decided.contains("Priority: ") && decided.contains("Purpose: unblurred view"), "{decided}");
        assert!(!decided.contains("priority: ") && !decided.contains("purpose: "), "{decided}");
        assert!(decided_nl.contains("Prioriteit: ") && decided_nl.contains("Termijn: "), "{decided_nl}");
        assert!(decided_nl.contains("Soort: inhoud van de zaak; Grootte in bytes: "), "{decided_nl}");
        let platform = app.key(Role::Platform, "platform").await;
        let (status, screened) =
            app.post_multipart("/api/v1/screen", &[("image", Some("again.png"), &png())], Some(&platform)).await;
        assert_eq!(status, 200, "{screened}");
        assert_eq!(screened["verdict"], "block", "the re-upload of the attached image is blocked: {screened}");
    })
    .await;
}

/// Two reviewers on one case: the second sees who took it before deciding; when the first one's
/// decision arrives after the second's, it is refused with the decision made and the first one's
/// typed text still on the page (never silently lost).
#[tokio::test]
async fn a_case_taken_by_someone_else_says_so_and_a_late_decision_keeps_its_text() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "ann", Role::Reviewer).await;
        account(&app, &admin, "ben", Role::Reviewer).await;
        let (ann, ann_csrf) = sign_in(&app, "ann").await;
        let (ben, ben_csrf) = sign_in(&app, "ben").await;
        app.file(&notice("https://example.com/two.jpg"), None).await;
        let case = app.only_case(&app.staff(Role::Reviewer, "helper").await).await;
        let (status, _, _) = post_form(&app, &format!("/staff/cases/{case}/take"), &ann, &[("csrf", &ann_csrf)]).await;
        assert_eq!(status, 303);
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}"), Some(&ben)).await;
        assert!(body.contains("id=\"taken-by-other\"") && body.contains("ann has taken this case"), "{body}");
        let (_, _, body) = page(&app, &format!("/staff/cases/{case}"), Some(&ann)).await;
        assert!(!body.contains("id=\"taken-by-other\""), "not to the one who took it");
        let (_, _, queue) = page(&app, "/staff/queue", Some(&ben)).await;
        assert!(queue.contains("ann") && !queue.contains("Another reviewer"), "the queue names who has it: {queue}");
        // Ben presses "take" on a stale queue: the case page says who has it, with a 409.
        let (status, _, body) =
            post_form(&app, &format!("/staff/cases/{case}/take"), &ben, &[("csrf", &ben_csrf)]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("You could not take this case") && body.contains("ann has taken this case"), "{body}");

        let decide = format!("/staff/cases/{case}/decision");
        fn no_action<'a>(csrf: &'a str, text: &'a str) -> [(&'a str, &'a str); 2] {
            [("csrf", csrf), ("explanation", text)]
        }
        let (status, _, body) =
            post_form(&app, &decide, &ben, &no_action(&ben_csrf, "No action: a landscape photo.")).await;
        assert_eq!(status, 303, "{body}");
        let late = "Careful reasons by Ann, typed while Ben decided.";
        let (status, _, body) = post_form(&app, &decide, &ann, &no_action(&ann_csrf, late)).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("already decided") && body.contains(late), "{body}");
        assert_eq!(app.store().case_decisions(&case).await.unwrap().len(), 1, "one decision");
        // The audit names the person behind the console session that decided.
        let audit = &body[body.find("id=\"audit-h\"").expect("audit")..];
        assert!(audit.contains("<td>ben (console)</td>") && !audit.contains("key:session-"), "{audit}");
    })
    .await;
}

/// A decision form sent after the session ended records nothing; the sign-in page says so and
/// carries what was typed, and signing in offers it again with this session's token, so one
/// click records it, also after mistyped passwords and the sign-in throttle. An upload
/// (multipart) cannot be carried: it leads to the sign-in, which says the file must be chosen
/// again, and back to the case page (its own address answers only POST, which was a 405 page);
/// a form with a password is never carried.
#[tokio::test]
async fn a_form_sent_after_the_session_ended_is_kept_across_the_sign_in() {
    each_backend(|app| async move {
        let app = TestApp::start_with(app.backend, vault_settings()).await;
        app.file(&notice("https://example.com/late.jpg"), None).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rob", Role::Reviewer).await;
        let (cookie, csrf) = sign_in(&app, "rob").await;
        let case = app.only_case(&app.staff(Role::Reviewer, "helper").await).await;
        app.advance(time::Duration::minutes(31));
        let decide = format!("/staff/cases/{case}/decision");
        let typed = "A long reason typed slowly, over more than half an hour.";
        let fields = [
            ("visibility", "removed"),
            ("ground", "illegal"),
            ("legal_ground", "nl-sr-254ba"),
            ("territorial_scope", "EEA"),
            ("content_date", "2026-01-05"),
            ("content_type", "image"),
            ("explanation", typed),
            ("facts", "A notice reported the image."),
        ];
        let mut sent = vec![("csrf", csrf.as_str())];
        sent.extend(fields);
        let (status, _, login) = post_form(&app, &decide, &cookie, &sent).await;
        assert_eq!(status, 401, "{login}");
        assert!(app.store().case_decisions(&case).await.unwrap().is_empty(), "nothing recorded");
        assert!(login.contains("id=\"session-ended\"") && login.contains("what you typed is kept"), "{login}");
        assert!(login.contains(&format!("name=\"carry_to\" value=\"{decide}\"")), "{login}");
        assert!(login.contains("name=\"next\" value=\"/staff/cases/"), "{login}");
        assert!(!login.contains(&csrf), "the old session's token is not carried");
        let carry = {
            let at = login.find("name=\"carry\" value=\"").expect("carried fields") + "name=\"carry\" value=\"".len();
            let rest = &login[at..];
            // As a browser reads the attribute (askama writes &#38; &#39; &#34; for & ' ").
            rest[..rest.find('"').expect("end")].replace("&#38;", "&").replace("&#39;", "'").replace("&#34;", "\"")
        };
        let sign_in_carrying = |password: &'static str| {
            browser()
                .post(format!("{}/staff/login", app.base))
                .header("accept", "text/html")
                .form(&[
                    ("username", "rob"),
                    ("password", password),
                    ("next", &format!("/staff/cases/{case}")),
                    ("carry", &carry),
                    ("carry_to", &decide),
                ])
                .send()
        };
        // Mistyped passwords, then the throttle: the form stays with the sign-in page throughout.
        for _ in 0..5 {
            let resp = sign_in_carrying("not-the-password").await.unwrap();
            assert_eq!(resp.status().as_u16(), 401);
        }
        let resp = sign_in_carrying(crate::staff_pages::PASSWORD).await.unwrap();
        assert_eq!(resp.status().as_u16(), 429, "throttled");
        let throttled = resp.text().await.unwrap();
        assert!(throttled.contains(&format!("name=\"carry_to\" value=\"{decide}\"")), "{throttled}");
        assert!(throttled.contains("name=\"carry\" value=\"") && throttled.contains("over+more+than+half+an+hour"));
        app.advance(time::Duration::minutes(16));
        // Signing in offers the form again, with everything typed and this session's token.
        let resp = sign_in_carrying(crate::staff_pages::PASSWORD).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let new_cookie = crate::staff_pages::session_cookie(&resp);
        let resend = resp.text().await.unwrap();
        assert!(resend.contains(&format!("action=\"{decide}\"")) && resend.contains("id=\"resend\""), "{resend}");
        assert!(resend.contains(&format!("name=\"explanation\" value=\"{typed}\"")), "{resend}");
        let token_at = resend.find("name=\"csrf\" value=\"").expect("token") + "name=\"csrf\" value=\"".len();
        let token = resend[token_at..][..resend[token_at..].find('"').unwrap()].to_owned();
        let mut again = vec![("csrf", token.as_str())];
        again.extend(fields);
        let (status, location, _) = post_form(&app, &decide, &new_cookie, &again).await;
        assert_eq!((status, location), (303, format!("/staff/cases/{case}?done=decided")));
        assert_eq!(app.store().case_decisions(&case).await.unwrap().len(), 1);

        // An upload after the session ended: to the sign-in, which says so, then the case page.
        app.advance(time::Duration::minutes(31));
        let resp = upload(&app, &case, &new_cookie, &token).await;
        assert_eq!(resp.status().as_u16(), 303);
        let expected = format!("/staff/login?next=%2Fstaff%2Fcases%2F{case}&ended=file");
        assert_eq!(resp.headers()["location"], expected.as_str());
        let (status, _, login) = page(&app, &expected, None).await;
        assert_eq!(status, 200);
        assert!(login.contains("id=\"session-ended\"") && login.contains("need to choose the file again"), "{login}");
        let (_, _, login) = page(&app, &format!("{expected}&lang=nl"), None).await;
        assert!(login.contains("het bestand opnieuw moet kiezen"), "{login}");
        // A password is never carried through a page.
        let (status, location, _) = post_form(
            &app,
            "/staff/password",
            &new_cookie,
            &[("csrf", &token), ("current_password", "x"), ("new_password", "a-new-long-password")],
        )
        .await;
        assert_eq!(status, 303);
        assert!(location.starts_with("/staff/login"), "{location}");
    })
    .await;
}

/// The queue says which way priorities run (0 is the most urgent), beside the filter and in it.
#[tokio::test]
async fn the_queue_says_which_priority_is_most_urgent() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rob", Role::Reviewer).await;
        let (cookie, _) = sign_in(&app, "rob").await;
        let (_, _, html) = page(&app, "/staff/queue", Some(&cookie)).await;
        assert!(html.contains("0 is the most urgent") && html.contains(">0 (most urgent)</option>"), "{html}");
        assert!(html.contains("aria-describedby=\"priority-hint\""), "{html}");
        let dutch = format!("{cookie}; {}=nl", staydown_server::pages::i18n::LANG_COOKIE);
        let (_, _, html) = page(&app, "/staff/queue", Some(&dutch)).await;
        assert!(html.contains("0 is het dringendst") && html.contains(">0 (dringendst)</option>"), "{html}");
    })
    .await;
}

/// A case opened from a link (not from the queue) can be taken on its own page.
#[tokio::test]
async fn a_case_is_taken_from_its_own_page() {
    each_backend(|app| async move {
        app.file(&notice("https://example.com/linked.jpg"), None).await;
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rob", Role::Reviewer).await;
        let (cookie, csrf) = sign_in(&app, "rob").await;
        let case = app.only_case(&app.staff(Role::Reviewer, "helper").await).await;
        let (_, _, html) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(
            html.contains(&format!("action=\"/staff/cases/{case}/take\"")) && html.contains("Take this case"),
            "{html}"
        );
        let (status, location, _) =
            post_form(&app, &format!("/staff/cases/{case}/take"), &cookie, &[("csrf", &csrf)]).await;
        assert_eq!((status, location), (303, format!("/staff/cases/{case}?taken=1")));
        let (_, _, html) = page(&app, &format!("/staff/cases/{case}"), Some(&cookie)).await;
        assert!(!html.contains("id=\"take-form\"") && html.contains("rob"), "taken: {html}");
        // An auditor sees who has it but gets no button.
        account(&app, &admin, "aud", Role::Auditor).await;
        let (auditor, _) = sign_in(&app, "aud").await;
        let (_, _, html) = page(&app, &format!("/staff/cases/{case}"), Some(&auditor)).await;
        assert!(!html.contains("id=\"take-form\""), "{html}");
    })
    .await;
}
