use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::app::{App, check_page, session};
use crate::follow::reviewer;

const PASSWORD: &str = "a long enough password";

async fn account(app: &App, admin: &str, username: &str, role: Role) {
    let resp = reqwest::Client::new()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(admin)
        .json(&json!({"username": username, "role": role.as_str(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

async fn admin_key(app: &App) -> String {
    let (id, key) = staydown_server::auth::generate_api_key();
    app.state
        .store()
        .create_api_key(&id, "admin", Role::Admin, &staydown_domain::secret_digest(&key), app.state.now())
        .await
        .unwrap();
    key
}

async fn file_notice(app: &App, url: &str) -> Value {
    reqwest::Client::new()
        .post(app.url("/api/v1/notices"))
        .json(&json!({
            "locations": [{"url": url}],
            "explanation": "A nude image of me is shared here without my consent.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "notifier": {"name": "Test Person", "email": "test.person@example.org"},
            "good_faith": true
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 96, |x, y| image::Rgb([(x * 2) as u8, (y * 2) as u8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The platform attaches the reported image to the case (API, multipart).
async fn attach(app: &App, key: &str, case: &str) {
    let boundary = "browser-console-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/cases/{case}/content")))
        .bearer_auth(key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

/// The number of rows the queue shows.
async fn rows(s: &staydown_testkit::browser::Session) -> u64 {
    s.client
        .execute("return document.querySelectorAll('table.queue tbody tr').length;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or_default()
}

async fn sign_in_as(s: &staydown_testkit::browser::Session, username: &str) {
    s.fill("#username", username).await;
    s.fill("#password", PASSWORD).await;
    s.click("form.narrow button[type=submit]").await;
    // The click returns before the browser has followed the sign-in's redirect: wait (bounded)
    // until it has left the sign-in address; a refused sign-in stays there and the caller's
    // assertion on the address says so.
    let start = std::time::Instant::now();
    while s.url().await.contains("/staff/login") && start.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A reviewer signs in, filters the queue, takes a case, sees the content blurred, reveals it,
/// and decides; a senior reviewer is refused on their own decision's appeal and another decides
/// it. axe-core on every page at desktop and phone width.
#[tokio::test]
async fn a_reviewer_and_a_senior_reviewer_work_through_the_console() {
    let Some(s) = session("a_reviewer_and_a_senior_reviewer_work_through_the_console").await else { return };
    let keyring = staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).unwrap();
    let app = App::start_with(|settings| staydown_server::Settings { vault: Some(keyring), ..settings }).await;
    let admin = admin_key(&app).await;
    account(&app, &admin, "rita", Role::Reviewer).await;
    account(&app, &admin, "sam", Role::SeniorReviewer).await;
    account(&app, &admin, "sue", Role::SeniorReviewer).await;
    let filed = file_notice(&app, "https://example.com/a.jpg").await;
    let other_filed = file_notice(&app, "https://example.com/other.jpg").await;
    let other_token = other_filed["tracking_token"].as_str().unwrap().to_owned();
    let key = reviewer(&app).await;
    let queue = app.state.store().queue(10).await.unwrap();
    assert_eq!(queue.len(), 2);
    let notice_id = filed["id"].as_str().unwrap();
    let first = app.state.store().case_notices(&queue[0].case_id).await.unwrap()[0].id.clone();
    let (case, other) = if first == notice_id {
        (queue[0].case_id.clone(), queue[1].case_id.clone())
    } else {
        (queue[1].case_id.clone(), queue[0].case_id.clone())
    };
    attach(&app, &key, &case).await;

    // Sign in: the console sends a signed-out browser to the sign-in page, then back.
    s.goto(&app.url("/staff/queue?lang=en")).await;
    assert!(s.url().await.contains("/staff/login?next="), "{}", s.url().await);
    check_page(&s, "console-login").await;
    sign_in_as(&s, "rita").await;
    assert!(s.url().await.ends_with("/staff/queue?lang=en"), "{}: {}", s.url().await, s.text("main").await);
    assert_eq!(rows(&s).await, 2);
    check_page(&s, "console-queue").await;
    // On a phone the queue scrolls sideways in its region rather than splitting words across
    // lines ("Ca / se", "Ta / k / e").
    s.size(staydown_testkit::browser::PHONE).await;
    let split = s
        .client
        .execute(
            "const split = [];
             for (const cell of document.querySelectorAll('table.queue th, table.queue td, table.queue button')) {
               if (cell.querySelector('button')) continue;
               const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
               for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                 const re = /\\S+/g; let m;
                 while ((m = re.exec(node.data))) {
                   if (m[0].length > 24) continue;
                   const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
                   const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                   if (tops.size > 1) split.push(m[0]);
                 }
               }
             }
             return split;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(split, serde_json::json!([]), "words split across lines in the queue on a phone");
    s.size(staydown_testkit::browser::DESKTOP).await;

    // Filter by the case's URL: one case left.
    s.fill("#q", "https://example.com/a.jpg").await;
    s.click("form.filters button[type=submit]").await;
    assert_eq!(rows(&s).await, 1);
    assert_eq!(s.value("#q").await, "https://example.com/a.jpg", "the filter is kept");

    // Take it: the case page, picked up by rita.
    s.click("table.queue form button").await;
    assert!(s.url().await.contains(&format!("/staff/cases/{case}")), "{}", s.url().await);
    assert!(s.text(".flash").await.contains("taken"));
    let (assignee, picked) = app.state.store().case_assignment(&case).await.unwrap().unwrap();
    assert!(assignee.unwrap().starts_with("account:") && picked.is_some());

    // The content shows blurred and in grayscale until revealed.
    let filter = s
        .client
        .execute("return getComputedStyle(document.querySelector('img.preview')).filter;", vec![])
        .await
        .unwrap();
    let filter = filter.as_str().unwrap_or_default().to_owned();
    assert!(filter.contains("blur") && filter.contains("grayscale"), "{filter}");
    let loaded = s.client.execute("return document.querySelector('img.preview').naturalWidth;", vec![]).await.unwrap();
    assert_eq!(loaded.as_u64(), Some(24), "the preview is a 24-pixel rendition, never the original");
    check_page(&s, "console-case").await;
    s.click("#content form button").await;
    let filter = s
        .client
        .execute("return getComputedStyle(document.querySelector('img.preview.revealed')).filter;", vec![])
        .await
        .unwrap();
    assert_eq!(filter.as_str(), Some("none"));
    let revealed = s
        .client
        .execute(
            "const i = document.querySelector('img.preview.revealed'); \
             return i.complete ? i.naturalWidth : new Promise(r => i.onload = () => r(i.naturalWidth));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(revealed.as_u64(), Some(96), "after Show, the original");

    // Decide: first without a ground (errors beside the fields), then complete.
    s.click("#d-vis-removed").await;
    s.fill("#d-explanation", "Intimate image shared without consent.").await;
    s.click("#decide form button[type=submit]").await;
    assert!(s.exists("#error-summary").await);
    assert!(s.exists("#d-ground-error").await, "the missing ground is named beside its field");
    assert_eq!(s.attr("#d-facts", "aria-invalid").await.as_deref(), Some("true"));
    assert_eq!(s.attr("#d-facts", "aria-describedby").await.as_deref(), Some("d-facts-error"));
    assert_eq!(s.value("#d-explanation").await, "Intimate image shared without consent.", "typed text kept");
    check_page(&s, "console-decide-errors").await;
    s.click("#d-ground-illegal").await;
    s.find("#d-legal_ground option[value='nl-sr-254ba']").await.click().await.unwrap();
    s.client.execute("document.getElementById('d-content_date').value = '2026-01-05';", vec![]).await.unwrap();
    s.fill("#d-facts", "A notice reported the image; the reviewer compared it with the report.").await;
    s.click("#decide form button[type=submit]").await;
    assert!(s.text(".flash").await.contains("decision is recorded"), "{}", s.text("main").await);
    let decisions = app.state.store().case_decisions(&case).await.unwrap();
    assert_eq!(decisions.len(), 1);

    // Sam decides the other case (no action); its notifier appeals.
    s.click("header form button").await;
    s.goto(&app.url("/staff/login?lang=en")).await;
    sign_in_as(&s, "sam").await;
    s.goto(&app.url(&format!("/staff/cases/{other}"))).await;
    s.fill("#d-explanation", "Not intimate imagery: no action.").await;
    s.click("#decide form button[type=submit]").await;
    assert!(s.wait_text(".flash", "decision is recorded").await.contains("recorded"));
    let decided = app.state.store().case_decisions(&other).await.unwrap().remove(0);
    let appeal: Value = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/decisions/{}/appeals", decided.id)))
        .json(&json!({"token": other_token, "reason": "The image is of me."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let appeal = appeal["id"].as_str().expect("appeal filed").to_owned();
    s.goto(&app.url("/staff/appeals")).await;
    check_page(&s, "console-appeals").await;
    s.click(&format!("a[href='/staff/appeals/{appeal}']")).await;
    s.click("#ap-reversed").await;
    s.fill("#ap-reasons", "Mine to decide?").await;
    s.click("form[action$='/decision'] button[type=submit]").await;
    assert!(s.text("#error-summary").await.contains("Another senior reviewer must decide"));
    check_page(&s, "console-appeal-refused").await;

    // Sue decides it.
    s.click("header form button").await;
    s.goto(&app.url("/staff/login?lang=en")).await;
    sign_in_as(&s, "sue").await;
    s.goto(&app.url(&format!("/staff/appeals/{appeal}"))).await;
    s.click("#ap-reversed").await;
    s.fill("#ap-reasons", "The notice shows the image is intimate; the decision is undone.").await;
    s.click("form[action$='/decision'] button[type=submit]").await;
    let done = app.state.store().appeal(&appeal).await.unwrap().unwrap();
    assert_eq!(done.outcome.map(|o| o.as_str()), Some("reversed"));
    check_page(&s, "console-appeal-decided").await;
    s.close().await;
}

/// A reviewer types a decision, the session ends before it is sent (here: ended in the database,
/// as the idle expiry does), and the click on "Record" leads to the sign-in, which says what
/// happened and keeps what was typed; after signing in, one click records it.
#[tokio::test]
async fn a_decision_typed_while_the_session_ended_is_recorded_after_signing_in_again() {
    let Some(s) = session("a_decision_typed_while_the_session_ended_is_recorded_after_signing_in_again").await else {
        return;
    };
    let app = App::start().await;
    let admin = admin_key(&app).await;
    account(&app, &admin, "rita", Role::Reviewer).await;
    file_notice(&app, "https://example.com/slow.jpg").await;
    let case = app.state.store().queue(10).await.unwrap()[0].case_id.clone();
    s.goto(&app.url(&format!("/staff/login?lang=en&next=/staff/cases/{case}"))).await;
    sign_in_as(&s, "rita").await;
    assert!(s.url().await.contains(&format!("/staff/cases/{case}")), "{}", s.url().await);
    let typed = "Intimate image shared without consent; typed over a long time.";
    s.click("#d-vis-removed").await;
    s.click("#d-ground-illegal").await;
    s.find("#d-legal_ground option[value='nl-sr-254ba']").await.click().await.unwrap();
    s.client.execute("document.getElementById('d-content_date').value = '2026-01-05';", vec![]).await.unwrap();
    s.fill("#d-explanation", typed).await;
    s.fill("#d-facts", "A notice reported the image.").await;
    // The session ends meanwhile.
    let cookie = s.client.get_named_cookie("staydown_staff").await.expect("session cookie");
    app.state
        .store()
        .end_staff_session(
            &staydown_domain::secret_digest(cookie.value()),
            staydown_store::SessionEnd::SignedOut,
            app.state.now(),
        )
        .await
        .unwrap();
    s.click("form[action$='/decision'] button[type=submit]").await;
    assert!(s.exists("#session-ended").await, "{}", s.text("main").await);
    assert!(app.state.store().case_decisions(&case).await.unwrap().is_empty(), "nothing recorded yet");
    check_page(&s, "console-session-ended").await;
    s.fill("#username", "rita").await;
    s.fill("#password", PASSWORD).await;
    s.click("form.narrow button[type=submit]").await;
    assert!(s.exists("#resend").await, "{}", s.text("main").await);
    check_page(&s, "console-resend").await;
    s.click("#resend").await;
    let decisions = app.state.store().case_decisions(&case).await.unwrap();
    assert_eq!(decisions.len(), 1, "{}", s.text("main").await);
    assert_eq!(decisions[0].decision.explanation, typed);
}
