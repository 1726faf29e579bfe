//! The console's management pages (issue 12, part B): the page × role matrix for the dashboard,
//! banks, transparency and admin pages; the dashboard shows exactly the figures of
//! `GET /api/v1/stats`; an admin creates a bank, imports and exports a file; a form without the
//! session's CSRF token changes nothing.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use time::Duration;

use crate::staff_pages::{self, account, browser, page, sign_in};
use crate::support::{TestApp, each_backend, notice, removal};

/// A signed-in console user: the session cookie and the session's CSRF token.
struct Staff {
    cookie: String,
    csrf: String,
}

/// Creates an account with `role` and signs it in through the form.
async fn signed_in(app: &TestApp, admin_key: &str, username: &str, role: Role) -> Staff {
    account(app, admin_key, username, role).await;
    let (cookie, csrf) = sign_in(app, username).await;
    Staff { cookie, csrf }
}

async fn get_page(app: &TestApp, path: &str, who: Option<&Staff>) -> (u16, String, String) {
    page(app, path, who.map(|s| s.cookie.as_str())).await
}

async fn post_form(app: &TestApp, path: &str, who: Option<&Staff>, form: &[(&str, &str)]) -> (u16, String, String) {
    staff_pages::post_form(app, path, who.map_or("", |s| s.cookie.as_str()), form).await
}

/// Which console role may open which of these pages (the API's permission table).
fn page_allowed(path: &str, role: Role) -> bool {
    use Role::*;
    match path {
        "/staff/dashboard" => matches!(role, Reviewer | SeniorReviewer | Admin | Auditor),
        "/staff/banks" | "/staff/banks/confirmed" | "/staff/banks/confirmed/export?format=csv" => role == Admin,
        "/staff/transparency" | "/staff/transparency/download?format=csv" => matches!(role, Admin | Auditor),
        "/staff/admin" => matches!(role, Admin | Auditor),
        _ => panic!("{path} missing from the expected matrix"),
    }
}

/// Page × role (and anonymous): anonymous callers are sent to sign in and come back; a role the
/// API's table does not allow gets the readable 403; the others get the page. Auditors see the
/// admin and transparency pages without a single form that changes something.
#[tokio::test]
async fn every_management_page_for_every_role() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let admin_key = app.key(Role::Admin, "bootstrap").await;
    let pages = [
        "/staff/dashboard",
        "/staff/banks",
        "/staff/banks/confirmed",
        "/staff/banks/confirmed/export?format=csv",
        "/staff/transparency",
        "/staff/transparency/download?format=csv",
        "/staff/admin",
    ];
    let mut mismatches = Vec::new();
    for path in pages {
        let (status, location, _) = get_page(&app, path, None).await;
        if status != 303 || !location.starts_with("/staff/login?next=") {
            mismatches.push(format!("{path} anonymous: {status} {location}"));
        }
    }
    let roles = [Role::Reviewer, Role::SeniorReviewer, Role::Admin, Role::Auditor, Role::Caseworker];
    for (i, role) in roles.into_iter().enumerate() {
        let who = signed_in(&app, &admin_key, &format!("person{i}"), role).await;
        for path in pages {
            let (status, _, body) = get_page(&app, path, Some(&who)).await;
            let expected = if page_allowed(path, role) { 200 } else { 403 };
            if status != expected {
                mismatches.push(format!("{path} as {role:?}: {status}, expected {expected}"));
            }
            if role == Role::Auditor && status == 200 && path.starts_with("/staff/admin") {
                let changing =
                    body.matches("method=\"post\"").count() - body.matches("action=\"/staff/logout\"").count();
                assert_eq!(changing, 0, "an auditor's admin page has no form that changes anything");
            }
        }
        // The forms obey the same table: only admins may create a bank.
        let name = format!("bank-{i}");
        let form = [
            ("csrf", who.csrf.as_str()),
            ("name", &name),
            ("action", "hold"),
            ("threshold", "31"),
            ("provenance", "external_list"),
        ];
        let (status, _, _) = post_form(&app, "/staff/banks", Some(&who), &form).await;
        let expected = if role == Role::Admin { 303 } else { 403 };
        if status != expected {
            mismatches.push(format!("POST /staff/banks as {role:?}: {status}, expected {expected}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Every `data-stat` pointer on the page with its `data-value`.
fn page_figures(html: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for part in html.split("data-stat=\"").skip(1) {
        let (pointer, rest) = part.split_once('"').expect("pointer");
        let value =
            rest.split_once("data-value=\"").and_then(|(_, v)| v.split_once('"')).map(|(v, _)| v).expect("value");
        let value = value.replace("&quot;", "\"").replace("&#34;", "\"");
        out.insert(pointer.to_owned(), serde_json::from_str(&value).expect("a JSON value"));
    }
    out
}

/// Every number or null in the stats document outside `period`, by JSON pointer.
fn api_figures(v: &Value, pointer: String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if pointer.is_empty() && k == "period" {
                    continue;
                }
                api_figures(v, format!("{pointer}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                api_figures(v, format!("{pointer}/{i}"), out);
            }
        }
        Value::Number(_) | Value::Null => {
            out.insert(pointer, v.clone());
        }
        _ => {}
    }
}

/// The dashboard shows every figure of `GET /api/v1/stats` for the same data and period, with
/// the same value, and draws its charts as SVG.
#[tokio::test]
async fn dashboard_figures_equal_the_stats_api() {
    each_backend(|app| async move {
        let admin_key = app.key(Role::Admin, "bootstrap").await;
        let reviewer = app.staff(Role::Reviewer, "rita").await;
        let flagger = app.key(Role::TrustedFlagger, "Offlimits").await;
        let platform = app.key(Role::Platform, "Uploads").await;
        let mut body = notice("https://d.example/1");
        body["notifier"] = Value::Null;
        app.file(&body, Some(&flagger)).await;
        let case = app.only_case(&reviewer).await;
        app.advance(Duration::hours(1));
        let (status, _) = app.post(&format!("/api/v1/cases/{case}/take"), &json!({}), Some(&reviewer)).await;
        assert_eq!(status, 200);
        app.advance(Duration::hours(20));
        let (status, _) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201);
        app.file(&notice("https://d.example/2"), None).await;
        let image =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/c2pa/ocsp.jpg")).expect("fixture");
        let parts: [(&str, Option<&str>, &[u8]); 1] = [("image", Some("up.jpg"), &image)];
        app.post_multipart("/api/v1/screen", &parts, Some(&platform)).await;
        app.advance(Duration::days(3));

        let who = signed_in(&app, &admin_key, "dora", Role::Auditor).await;
        let (status, _, html) = get_page(&app, "/staff/dashboard", Some(&who)).await;
        assert_eq!(status, 200, "{html}");
        let (status, stats) = app.get("/api/v1/stats", Some(&reviewer)).await;
        assert_eq!(status, 200);
        let shown = page_figures(&html);
        let mut expected = BTreeMap::new();
        api_figures(&stats, String::new(), &mut expected);
        assert!(expected.len() > 40, "the data exercises the figures: {stats}");
        let missing: Vec<_> = expected.keys().filter(|k| !shown.contains_key(*k)).collect();
        assert!(missing.is_empty(), "figures of /api/v1/stats missing from the dashboard: {missing:?}");
        let extra: Vec<_> = shown.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(extra.is_empty(), "dashboard figures the API does not give: {extra:?}");
        for (pointer, value) in &expected {
            assert_eq!(&shown[pointer], value, "{pointer}");
        }
        assert_eq!(stats["trusted_flaggers"][0]["flagger"], "Offlimits");
        // Sources and categories in words, not the stored codes.
        assert!(html.contains("Trusted flagger") && html.contains("Notice (Art. 16)"), "{html}");
        for code in ["article_16", "trusted_flagger", "STATEMENT_CATEGORY_"] {
            assert!(!html.contains(&format!(">{code}")), "{code} shown as a code: {html}");
        }
        // Charts: server-drawn SVG, each with its text alternative.
        let charts: Vec<&str> = html.split("<img src=\"data:image/svg+xml;base64,").skip(1).collect();
        assert_eq!(charts.len(), 9, "one chart per part but the first");
        use base64::Engine as _;
        let first = charts[0].split('"').next().unwrap();
        let svg = base64::engine::general_purpose::STANDARD.decode(first).expect("base64");
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{svg}");
        assert!(charts.iter().all(|c| c.contains("alt=\"") && !c.contains("alt=\"\"")), "every chart has an alt text");
    })
    .await;
}

/// An admin creates a bank, imports a CSV file (a file with a bad line is refused whole, with the
/// line named), sees the entries with their source, changes the threshold, and exports the file.
#[tokio::test]
async fn admins_create_import_and_export_banks_in_the_console() {
    each_backend(|app| async move {
        let admin_key = app.key(Role::Admin, "bootstrap").await;
        let who = signed_in(&app, &admin_key, "ada", Role::Admin).await;
        let form = [
            ("csrf", who.csrf.as_str()),
            ("name", "partner-list"),
            ("description", "Hashes from a partner"),
            ("action", "hold"),
            ("threshold", "20"),
            ("provenance", "external_list"),
        ];
        let (status, location, _) = post_form(&app, "/staff/banks", Some(&who), &form).await;
        assert_eq!((status, location.as_str()), (303, "/staff/banks/partner-list?done=created"));
        // The same name again: the API's 409, shown on the page with the form kept.
        let (status, _, html) = post_form(&app, "/staff/banks", Some(&who), &form).await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("value=\"partner-list\""), "typed text is kept");
        // In Dutch, the reasons are Dutch and name their fields by label, in the API's case too.
        let dutch = format!("{}; {}=nl", who.cookie, staydown_server::pages::i18n::LANG_COOKIE);
        let (status, _, html) = staff_pages::post_form(
            &app,
            "/staff/banks",
            &dutch,
            &[
                ("csrf", who.csrf.as_str()),
                ("name", "nl-list"),
                ("threshold", "99"),
                ("action", "hold"),
                ("provenance", "external_list"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("<a href=\"#threshold\">PDQ-drempel</a>: Een heel getal van 0 tot en met 31."), "{html}");
        let (status, _, html) = staff_pages::post_form(
            &app,
            "/staff/banks",
            &dutch,
            &[
                ("csrf", who.csrf.as_str()),
                ("name", "Bad Name!"),
                ("threshold", "20"),
                ("action", "hold"),
                ("provenance", "external_list"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("1 tot 64 tekens: kleine letters"), "the API's reason in Dutch: {html}");
        let (_, _, html) = staff_pages::post_form(&app, "/staff/banks", &dutch, &form).await;
        assert!(html.contains("Dit bestaat al"), "{html}");
        assert!(!html.contains("already exists"), "no English on a Dutch page: {html}");

        let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let upload_as = |text: String, skip: bool, cookie: &str| {
            let mut fields = vec![("csrf", who.csrf.as_str()), ("format", "csv")];
            if skip {
                fields.push(("skip_invalid", "on"));
            }
            let (content_type, body) =
                staff_pages::multipart(&fields, ("file", "list.csv", "text/csv", text.as_bytes()));
            browser()
                .post(format!("{}/staff/banks/partner-list/import", app.base))
                .header("cookie", cookie)
                .header("content-type", content_type)
                .body(body)
        };
        let upload = |text: String, skip: bool| upload_as(text, skip, &who.cookie);
        let bad = format!("pdq,quality,sha256,md5,note\n{pdq},90,,,first\nnot-a-hash,,,,second\n");
        let resp = upload(bad, false).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 422);
        assert!(
            resp.text().await.unwrap().contains("Line 3, pdq: must be 64 hexadecimal digits"),
            "the bad line is named"
        );
        let (_, bank) = app.get("/api/v1/banks/partner-list", Some(&admin_key)).await;
        assert_eq!(bank["entry_count"], 0, "nothing imported from a file with a bad line");
        // On a Dutch page the bad lines are named in Dutch, each with its reason.
        let bad = format!("pdq,quality,sha256,md5,note\nnot-a-hash,,,,a\n{pdq},90\n,,,,only a note\n{pdq},200,,,b\n");
        let resp = upload_as(bad, false, &dutch).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 422);
        let html = resp.text().await.unwrap();
        for reason in [
            "Regel 2, pdq: moet 64 hexadecimale tekens zijn",
            "Regel 3: 2 velden, maar de eerste regel noemt 5 kolommen.",
            "Regel 4: geef minstens een van pdq, sha256 of md5.",
            "Regel 5, quality: een heel getal van 0 tot en met 100.",
        ] {
            assert!(html.contains(reason), "{reason}: {html}");
        }
        assert!(!html.contains("line 2") && !html.contains("hexadecimal digits"), "no English on a Dutch page: {html}");

        let good = format!("pdq,quality,sha256,md5,note\n{pdq},90,,,first\n,,{sha},,second\n");
        let resp = upload(good, false).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("added=2"), "{location}");
        let (status, _, html) = get_page(&app, &location, Some(&who)).await;
        assert_eq!(status, 200);
        assert!(html.contains(pdq) && html.contains(sha), "the entries are listed");
        assert!(html.contains("Imported 2 entries"), "the import is confirmed: {html}");
        // In words: the action, the origin of the hashes, and who added the entries.
        assert!(html.contains("Hold for review") && html.contains("External hash list"), "{html}");
        assert!(html.contains("ada (console)") && !html.contains("key:session-"), "{html}");

        let (status, location, _) = post_form(
            &app,
            "/staff/banks/partner-list/settings",
            Some(&who),
            &[("csrf", &who.csrf), ("action", "block"), ("threshold", "12")],
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/staff/banks/partner-list?done=updated"));
        let (_, bank) = app.get("/api/v1/banks/partner-list", Some(&admin_key)).await;
        assert_eq!(
            (bank["action"].as_str(), bank["threshold"].as_u64(), bank["entry_count"].as_i64()),
            (Some("block"), Some(12), Some(2))
        );
        // An upload whose SHA-256 the bank holds is blocked; the bank page names the outcome in
        // words, in Dutch too, and the formats by name.
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&png))
        };
        let (status, added) = app
            .post("/api/v1/banks/partner-list/entries", &serde_json::json!({"sha256": digest}), Some(&admin_key))
            .await;
        assert_eq!(status, 201, "{added}");
        let platform = app.key(Role::Platform, "platform").await;
        let (status, screened) =
            app.post_multipart("/api/v1/screen", &[("image", Some("shared.png"), &png)], Some(&platform)).await;
        assert_eq!((status, screened["verdict"].as_str()), (200, Some("block")), "{screened}");
        let (_, _, html) = get_page(&app, "/staff/banks/partner-list", Some(&who)).await;
        assert!(html.contains("<td>Upload blocked</td>") && !html.contains("<td>block</td>"), "{html}");
        let (_, _, html) = staff_pages::page(&app, "/staff/banks/partner-list", Some(&dutch)).await;
        assert!(html.contains("<td>Upload geblokkeerd</td>"), "{html}");
        assert!(
            html.contains(">JSON-regels (één item per regel)</option>") && html.contains("Downloaden als CSV"),
            "{html}"
        );

        let (status, _, csv) = get_page(&app, "/staff/banks/partner-list/export?format=csv", Some(&who)).await;
        assert_eq!(status, 200);
        assert!(csv.starts_with("pdq,quality,sha256,md5,note\n") && csv.contains(pdq) && csv.contains(sha), "{csv}");
    })
    .await;
}

/// A form sent without this session's CSRF token (a forged cross-site post) is refused with the
/// readable page and changes nothing.
#[tokio::test]
async fn console_forms_without_the_session_token_change_nothing() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let admin_key = app.key(Role::Admin, "bootstrap").await;
    let who = signed_in(&app, &admin_key, "ada", Role::Admin).await;
    for token in ["", "0000", &who.csrf[..who.csrf.len() - 1]] {
        let (status, _, html) = post_form(
            &app,
            "/staff/banks",
            Some(&who),
            &[
                ("csrf", token),
                ("name", "forged"),
                ("action", "block"),
                ("threshold", "31"),
                ("provenance", "external_list"),
            ],
        )
        .await;
        assert_eq!(status, 403, "{html}");
        let (status, _, _) = post_form(
            &app,
            "/staff/admin/keys",
            Some(&who),
            &[("csrf", token), ("name", "Forged"), ("role", "platform")],
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, _) = app.get("/api/v1/banks/forged", Some(&admin_key)).await;
    assert_eq!(status, 404, "no bank was created");
    let (_, keys) = app.get("/api/v1/keys", Some(&admin_key)).await;
    assert!(keys.as_array().unwrap().iter().all(|k| k["name"] != "Forged"), "no key was issued");
}

/// The key form sent twice (a reload of the answer that showed the key) issues one key, and the
/// second answer says the key was shown once — it never shows a key again.
#[tokio::test]
async fn a_key_form_sent_twice_issues_one_key() {
    let app = TestApp::start(staydown_testkit::Backend::Sqlite).await;
    let admin_key = app.key(Role::Admin, "bootstrap").await;
    let who = signed_in(&app, &admin_key, "adam", Role::Admin).await;
    let (_, _, html) = get_page(&app, "/staff/admin", Some(&who)).await;
    let form = &html[html.find("action=\"/staff/admin/keys\"").expect("the key form")..];
    let needle = "name=\"submission\" value=\"";
    let at = form.find(needle).expect("a submission value") + needle.len();
    let submission = form[at..at + 32].to_owned();
    let fields = [
        ("csrf", who.csrf.as_str()),
        ("submission", submission.as_str()),
        ("name", "Offlimits"),
        ("role", "trusted_flagger"),
    ];
    let (status, _, first) = post_form(&app, "/staff/admin/keys", Some(&who), &fields).await;
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("sd_"), "the key is shown once: {first}");
    let (status, _, again) = post_form(&app, "/staff/admin/keys", Some(&who), &fields).await;
    assert_eq!(status, 409, "{again}");
    assert!(again.contains("This key was already issued") && !again.contains("sd_"), "{again}");
    let (_, keys) = app.get("/api/v1/keys", Some(&admin_key)).await;
    let issued = keys.as_array().unwrap().iter().filter(|k| k["name"] == "Offlimits").count();
    assert_eq!(issued, 1, "{keys}");
}

/// Revoking a key asks first (it cannot be undone and stops every program using the key): the
/// first send shows the question and changes nothing; "yes" revokes it.
#[tokio::test]
async fn revoking_a_key_asks_first() {
    each_backend(|app| async move {
        let admin_key = app.key(Role::Admin, "bootstrap").await;
        let who = signed_in(&app, &admin_key, "adam", Role::Admin).await;
        let platform_key = app.key(Role::Platform, "Fotoplek uploads").await;
        let (_, keys) = app.get("/api/v1/keys", Some(&admin_key)).await;
        let id = keys.as_array().unwrap().iter().find(|k| k["name"] == "Fotoplek uploads").expect("the key")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let revoke = format!("/staff/admin/keys/{id}/revoke");
        let dutch = format!("{}; {}=nl", who.cookie, staydown_server::pages::i18n::LANG_COOKIE);
        let (status, _, asked) = staff_pages::post_form(&app, &revoke, &dutch, &[("csrf", who.csrf.as_str())]).await;
        assert_eq!(status, 200, "{asked}");
        assert!(
            asked.contains("id=\"revoke-confirm\"") && asked.contains("De sleutel ‘Fotoplek uploads’ intrekken?"),
            "{asked}"
        );
        assert!(asked.contains("name=\"confirm\" value=\"yes\""), "{asked}");
        let (status, _) = app.get("/api/v1/queue", Some(&platform_key)).await;
        assert_ne!(status, 401, "the key still works after the question");
        let (_, keys) = app.get("/api/v1/keys", Some(&admin_key)).await;
        let key = keys.as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).expect("the key").clone();
        assert_eq!(key["state"], "active", "{key}");

        let (status, location, _) =
            post_form(&app, &revoke, Some(&who), &[("csrf", who.csrf.as_str()), ("confirm", "yes")]).await;
        assert_eq!((status, location.as_str()), (303, "/staff/admin?done=revoked"));
        let (_, keys) = app.get("/api/v1/keys", Some(&admin_key)).await;
        let key = keys.as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).expect("the key").clone();
        assert_eq!(key["state"], "revoked", "{key}");
        // Asking about a key that is gone is the console's 404 page.
        let (status, _, _) = post_form(&app, &revoke, Some(&who), &[("csrf", who.csrf.as_str())]).await;
        assert_eq!(status, 404);
    })
    .await;
}

/// The transparency page says where each statement's submission stands in words, and its
/// reporting period in the page language, not as stored codes and ISO dates.
#[tokio::test]
async fn the_transparency_page_says_submission_states_and_the_period_in_words() {
    each_backend(|app| async move {
        let admin_key = app.key(Role::Admin, "bootstrap").await;
        let who = signed_in(&app, &admin_key, "ada", Role::Admin).await;
        let reviewer = app.key(Role::Reviewer, "reviewer").await;
        app.file(&notice("https://example.com/transparency/1"), None).await;
        let case = app.store().queue(10).await.unwrap().remove(0).case_id;
        let (status, decided) = app.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decided}");
        let dutch = format!("{}; {}=nl", who.cookie, staydown_server::pages::i18n::LANG_COOKIE);
        let (status, _, html) =
            staff_pages::page(&app, "/staff/transparency?from=2026-01-01&to=2026-01-31", Some(&dutch)).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Verslagperiode 1 januari 2026 – 31 januari 2026"), "{html}");
        assert!(html.contains("<td>Wacht op verzending</td>") && !html.contains("<td>pending</td>"), "{html}");
        let (_, _, html) = get_page(&app, "/staff/transparency?from=2026-01-01&to=2026-01-31", Some(&who)).await;
        assert!(html.contains("Reporting period 1 January 2026 – 31 January 2026"), "{html}");
        assert!(html.contains("<td>Waiting to be sent</td>"), "{html}");
    })
    .await;
}

/// A bank file over the import limit gets the bank page back with 413 and the limit named beside
/// the file field, in the page's language; nothing is imported.
#[tokio::test]
async fn a_bank_file_over_the_import_limit_is_refused_with_the_limit_named() {
    each_backend(|app| async move {
        let admin_key = app.key(Role::Admin, "bootstrap").await;
        let who = signed_in(&app, &admin_key, "ada", Role::Admin).await;
        let line = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,90,,,note\n";
        let limit = staydown_server::staff::admin_pages::banks::MAX_IMPORT_BYTES;
        // Just over the limit (the body limit's margin for the other fields lets it through; the
        // file's own check does not), and over the body limit itself.
        for lines in [limit / line.len() + 2, (limit + 128 * 1024) / line.len()] {
            let file = format!("pdq,quality,sha256,md5,note\n{}", line.repeat(lines));
            let (content_type, body) = staff_pages::multipart(
                &[("csrf", who.csrf.as_str()), ("format", "csv")],
                ("file", "big.csv", "text/csv", file.as_bytes()),
            );
            for (lang, reason) in [("en", "larger than 32 MiB"), ("nl", "groter dan 32 MiB")] {
                let cookie = format!("{}; {}={lang}", who.cookie, staydown_server::pages::i18n::LANG_COOKIE);
                let resp = browser()
                    .post(format!("{}/staff/banks/confirmed/import", app.base))
                    .header("cookie", cookie)
                    .header("content-type", content_type.clone())
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                assert_eq!(status, 413, "{lang}, {lines} lines: {:?}", resp.headers().get("location"));
                let html = resp.text().await.unwrap();
                assert!(html.contains(reason), "{lang}: the limit is named: {html}");
                assert!(html.contains("href=\"#file\""), "{lang}: the reason points at the file field");
            }
        }
        let (_, bank) = app.get("/api/v1/banks/confirmed", Some(&admin_key)).await;
        assert_eq!(bank["entry_count"], 0, "nothing imported");
    })
    .await;
}
