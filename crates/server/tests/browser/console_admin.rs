//! The console's management pages in real Chromium (issue 12, part B): an admin signs in,
//! creates a hash bank and imports a file into it, and sees the entries; the dashboard draws its
//! SVG charts over demo figures; axe-core on the dashboard, bank, transparency and admin pages at
//! desktop and phone width. `STAYDOWN_SCREENSHOTS=1` writes the README's dashboard screenshot.

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;

use crate::app::{App, check_page, session};

const PASSWORD: &str = "console admin password";

async fn key(app: &App, role: Role, name: &str) -> String {
    let (id, key) = staydown_server::auth::generate_api_key();
    app.state.store().create_api_key(&id, name, role, &secret_digest(&key), app.state.now()).await.unwrap();
    key
}

/// Demo figures: trusted-flagger and public notices, decisions, a screening.
async fn demo_data(app: &App) {
    let client = reqwest::Client::new();
    let flagger = key(app, Role::TrustedFlagger, "Offlimits").await;
    let reviewer = key(app, Role::Reviewer, "reviewer").await;
    for (i, by_flagger) in [(1, true), (2, true), (3, false), (4, false)] {
        let mut body = json!({
            "locations": [{"url": format!("https://social.example/p/{i}")}],
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "explanation": "A nude image of me is shared here without my consent.",
            "good_faith": true,
            "notifier": {"name": "Sam", "email": "sam@example.org"}
        });
        let mut req = client.post(app.url("/api/v1/notices"));
        if by_flagger {
            body["notifier"] = Value::Null;
            req = req.bearer_auth(&flagger);
        }
        let resp = req.json(&body).send().await.unwrap();
        assert!(resp.status().is_success(), "{:?}", resp.text().await);
    }
    let queue = app.state.store().queue(10).await.unwrap();
    for item in queue.iter().take(3) {
        let resp = client
            .post(app.url(&format!("/api/v1/cases/{}/decision", item.case_id)))
            .bearer_auth(&reviewer)
            .json(&json!({
                "visibility": ["removed"], "ground": "illegal", "legal_ground": "nl-sr-254ba",
                "explanation": "An intimate image shared without consent.",
                "territorial_scope": ["EEA"], "content_date": "2026-01-05",
                "facts": "A notice reported the image; the reviewer compared it with the report.",
                "content_type": ["image"]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
    }
}

#[tokio::test]
async fn an_admin_manages_banks_and_reads_the_dashboard_in_the_browser() {
    let Some(s) = session("an_admin_manages_banks_and_reads_the_dashboard_in_the_browser").await else { return };
    let app = App::start().await;
    let hash = staydown_server::api::accounts::hash_password(PASSWORD).unwrap();
    let now = app.state.now();
    app.state.store().create_account("admin-1", "ada", Role::Admin, &hash, "test", now).await.unwrap();
    demo_data(&app).await;

    s.goto(&app.url("/staff/banks?lang=en")).await;
    assert!(s.url().await.contains("/staff/login?next="), "signed-out: {}", s.url().await);
    s.fill("#username", "ada").await;
    s.fill("#password", PASSWORD).await;
    s.click("form[action='/staff/login'] button[type=submit]").await;
    // Back to the page asked for, signed in.
    s.wait_text("h1", "Hash banks").await;
    assert!(s.text(".who").await.contains("ada"));

    // A new bank, then a file imported into it.
    check_page(&s, "console-banks").await;
    s.fill("#name", "partner-list").await;
    s.fill("#description", "Hashes from a partner helpline").await;
    s.click("form[action='/staff/banks'] button[type=submit]").await;
    assert!(s.wait_text("p.flash", "created").await.contains("created"));
    let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let file = std::env::temp_dir().join(format!("console-admin-{}.csv", std::process::id()));
    std::fs::write(&file, format!("pdq,quality,sha256,md5,note\n{pdq},90,,,from the partner\n")).unwrap();
    s.choose_files("#file", &[file.as_path()]).await;
    s.click("form[action$='/import'] button[type=submit]").await;
    assert!(s.wait_text("p.flash", "Imported").await.contains("Imported 1 entries"));
    assert!(s.text("table.entries").await.contains(pdq), "the imported entry is listed");
    check_page(&s, "console-bank").await;
    std::fs::remove_file(&file).ok();
    let bank = app.state.store().bank("partner-list").await.unwrap().expect("the bank");
    assert_eq!(bank.entry_count, 1);

    // The dashboard: SVG charts drawn on the server, each with a table.
    s.goto(&app.url("/staff/dashboard")).await;
    let src = s.attr("#time-to-action figure.chart img", "src").await.unwrap_or_default();
    assert!(src.starts_with("data:image/svg+xml;base64,"), "{src:.60}");
    assert!(s.text("#flaggers table").await.contains("Offlimits"), "the trusted flagger is in the table");
    check_page(&s, "console-dashboard").await;

    s.goto(&app.url("/staff/transparency")).await;
    check_page(&s, "console-transparency").await;
    s.goto(&app.url("/staff/admin?verify=1")).await;
    assert!(s.text("#audit-result").await.contains("whole"), "the audit chain checks out");
    check_page(&s, "console-admin").await;
    s.close().await;
}
