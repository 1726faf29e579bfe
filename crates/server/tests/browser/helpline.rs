use std::io::Cursor;
use std::path::Path;

use staydown_domain::roles::Role;
use staydown_media::{DecodeLimits, hash_image_bytes};
use staydown_testkit::browser::Session;

use crate::app::{App, check_page, session};

const CANARY_NAME: &str = "Canary Maud Zwaneveld-8812";
const CANARY_PHONE: &str = "+31 6 8812 8812";

async fn account(app: &App, role: Role, username: &str, password: &str) {
    let hash = staydown_server::api::accounts::hash_password(password).expect("hash");
    app.state
        .store()
        .create_account(&uuid::Uuid::now_v7().to_string(), username, role, &hash, "test", app.state.now())
        .await
        .expect("account");
}

/// Signs in through the console's form and waits until the page after it (`next`) is shown.
async fn sign_in(s: &Session, app: &App, username: &str, password: &str, next: &str, heading: &str) {
    s.goto(&app.url(&format!("/staff/login?lang=en&next={next}"))).await;
    s.fill("#username", username).await;
    s.fill("#password", password).await;
    s.click("form[action=\"/staff/login\"] button[type=submit]").await;
    s.wait_text("h1", heading).await;
}

async fn source(s: &Session) -> String {
    s.client.source().await.expect("page source")
}

async fn select(s: &Session, css: &str, value: &str) {
    s.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
}

/// A JPEG that only this test's browser ever reads.
fn secret_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(80, 60, |x, y| image::Rgb([(x * 3) as u8, (y * 4) as u8, ((x + y) * 2) as u8]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg).unwrap();
    out
}

/// A caseworker signs in, opens a help case (the form's errors first), registers an e-mail
/// platform, sends it a removal request, records its answer, makes pre-emptive hashes in the
/// browser (the image never reaches the server) and sees the league table with its chart; an
/// auditor sees the figures but no case and no victim data. axe-core on every page, both widths.
#[tokio::test]
async fn a_caseworker_works_a_case_from_intake_to_the_league_table() {
    let Some(s) = session("helpline_caseworker").await else { return };
    let keys = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).expect("keys");
    let app = App::start_with(|s| staydown_server::Settings { vault: Some(keys), ..s }).await;
    account(&app, Role::Caseworker, "casey", "casey-correct-horse-battery").await;
    account(&app, Role::Auditor, "audrey", "audrey-correct-horse-battery").await;
    sign_in(&s, &app, "casey", "casey-correct-horse-battery", "/staff/helpline", "Help cases").await;
    let h1 = s.text("h1").await;
    assert!(h1.contains("Help cases"), "{h1} at {}: {}", s.url().await, source(&s).await);
    check_page(&s, "helpline-cases").await;

    // The intake form: an empty summary is an error beside the field, with the rest kept.
    s.click("a[href=\"/staff/helpline/cases/new\"]").await;
    s.fill("#municipality", "Utrecht").await;
    s.click("form[action=\"/staff/helpline/cases\"] button[type=submit]").await;
    assert!(s.text("#error-summary").await.contains("required"), "{}", s.text("#error-summary").await);
    assert_eq!(s.attr("#summary", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(s.value("#municipality").await, "Utrecht");
    check_page(&s, "helpline-new-case-errors").await;
    s.fill("#summary", "A deepnude of a pupil circulates in a class chat.").await;
    select(&s, "#channel", "school").await;
    s.click("#image_kind-ai_generated").await;
    s.click("#exposure-closed_groups").await;
    s.click("#consent").await;
    s.fill("#reporting_organisation", "Anti-bullying coordinator, De Regenboog school").await;
    s.fill("#name", CANARY_NAME).await;
    s.fill("#phone", CANARY_PHONE).await;
    s.click("form[action=\"/staff/helpline/cases\"] button[type=submit]").await;
    let case_url = s.url().await;
    assert!(case_url.contains("/staff/helpline/cases/"), "{case_url}");
    let case_id = case_url.rsplit('/').next().unwrap().split(['?', '#']).next().unwrap().to_owned();
    assert!(!source(&s).await.contains(CANARY_NAME), "contact details only when asked for");

    // An e-mail platform in the registry.
    s.goto(&app.url("/staff/helpline/platforms")).await;
    s.fill("#name", "Q").await;
    s.fill("#email", "abuse@q.example").await;
    s.fill("#member_state", "NL").await;
    s.click("form[action=\"/staff/helpline/platforms\"] button[type=submit]").await;
    assert!(s.text("table").await.contains("abuse@q.example"));
    check_page(&s, "helpline-platforms").await;

    // A removal request, sent at once by e-mail; then the answer the platform gave.
    s.goto(&case_url).await;
    s.fill("#req-url", "https://q.example/p/123").await;
    s.fill("#req-explanation", "An AI-generated nude image of a minor, shared without consent.").await;
    s.click("form[action$=\"/requests\"] button[type=submit]").await;
    let article = s.text("article.request").await;
    assert!(article.contains("Q") && article.contains("Sent"), "{article}");
    let outbox = app.state.store().outbox_items("helpline.request").await.expect("outbox");
    assert_eq!(outbox.len(), 1, "the request e-mail is queued");
    assert!(!outbox[0].payload.to_string().contains(CANARY_NAME), "no victim data in the e-mail");
    select(&s, "select[name=state]", "removed").await;
    s.click("form[action$=\"/answer\"] button[type=submit]").await;
    let article = s.text("article.request").await;
    assert!(article.contains("Removed"), "{article}");
    check_page(&s, "helpline-case").await;

    // Pre-emptive hashes, made by this browser from a file only it reads.
    let dir = tempfile::tempdir().unwrap();
    let photo = secret_photo();
    let path = dir.path().join("not-yet-shared.jpg");
    std::fs::write(&path, &photo).unwrap();
    s.choose_files("#photos", &[path.as_path() as &Path]).await;
    s.wait_text("#hash-status", "Fingerprints ready: 1").await;
    s.click("#hashes-form button[type=submit]").await;
    let expected = hash_image_bytes(&photo, &DecodeLimits::default()).expect("server-side hash");
    // The kept list shows the browser's PDQ, which equals the server's for the same file.
    s.wait_text("#hashes", &expected.pdq.to_hex()).await;
    let bank = app.state.store().bank_entries("helpline-preemptive", i64::MIN, 10).await.expect("bank");
    assert_eq!(bank.len(), 1);
    assert_eq!(bank[0].pdq.as_deref(), Some(expected.pdq.to_hex().as_str()));
    assert_eq!(bank[0].sha256.as_deref(), Some(expected.sha256_hex().as_str()));
    let seen = app.seen.lock().unwrap().clone();
    assert!(
        seen.iter().all(|r| !r.body.windows(64).any(|w| photo.windows(64).next() == Some(w))),
        "the image never reached the server"
    );
    assert!(seen.iter().any(|r| r.path.ends_with(&format!("/cases/{case_id}/hashes"))));

    // Evidence, sealed at rest with its SHA-256 taken at intake, and the police bundle.
    let screenshot = dir.path().join("screenshot.png");
    let mut png = Vec::new();
    image::RgbImage::from_pixel(20, 10, image::Rgb([9, 9, 9]))
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(&screenshot, &png).unwrap();
    select(&s, "#ev-kind", "screenshot").await;
    s.choose_files("#ev-file", &[screenshot.as_path() as &Path]).await;
    s.click("form[action$=\"/evidence\"] button[type=submit]").await;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&png));
    s.wait_text("#evidence", &digest).await;
    let bundle = s.attr("a[href$=\"/police-bundle\"]", "href").await.expect("police bundle link");
    assert_eq!(bundle, format!("/staff/helpline/cases/{case_id}/police-bundle"));
    // The same evidence form sent twice by the browser (a double click, a retry): Chromium writes
    // a new multipart boundary for each send, and the file is still stored once.
    let sent = s
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const form = document.querySelector('form[action$=\"/evidence\"]');
             const body = new FormData(form);
             body.set('file', new File([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], 'second.png', {type: 'image/png'}));
             const send = () => fetch(form.action, {method: 'POST', body, redirect: 'manual'}).then(r => r.type);
             Promise.all([send(), send()]).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .expect("two sends");
    assert_eq!(sent, serde_json::json!(["opaqueredirect", "opaqueredirect"]), "both sends land on the case page");
    let stored = staydown_server::api::helpline::case_evidence(&app.state, &case_id).await.expect("evidence").len();
    assert_eq!(stored, 2, "the screenshot and the second file, each once");

    // The league table: chart, table, figures.
    s.goto(&app.url("/staff/helpline/league")).await;
    assert_eq!(s.attr("svg.chart", "role").await.as_deref(), Some("img"));
    let table = s.text("#league-table").await;
    assert!(table.contains("Q"), "{table}");
    let row = s.text("#league-table tbody tr").await;
    assert!(row.starts_with("Q No 1 1 100 %"), "one request, honoured: {row}");
    check_page(&s, "helpline-league").await;

    // The auditor: figures yes, cases no, and no victim data anywhere.
    s.click("form[action=\"/staff/logout\"] button").await;
    s.wait_text("h1", "Sign in").await;
    sign_in(&s, &app, "audrey", "audrey-correct-horse-battery", "/staff/helpline/league", "League table").await;
    let page = source(&s).await;
    assert!(page.contains("league-table"), "the auditor sees the figures");
    for canary in [CANARY_NAME, CANARY_PHONE, "Regenboog", "deepnude of a pupil"] {
        assert!(!page.contains(canary), "{canary} on the auditor's league page");
    }
    check_page(&s, "helpline-league-auditor").await;
    s.goto(&case_url).await;
    assert!(!source(&s).await.contains(CANARY_NAME));
    assert!(!source(&s).await.contains("deepnude of a pupil"), "no case page for an auditor");
}
