use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;

use crate::app::{App, check_page, session};
use crate::report::file_through_report;

/// A reviewer key.
pub async fn reviewer(app: &App) -> String {
    let (id, key) = staydown_server::auth::generate_api_key();
    app.state
        .store()
        .create_api_key(&id, "reviewer", Role::Reviewer, &secret_digest(&key), app.state.now())
        .await
        .unwrap();
    key
}

/// Decides the only open case with a removal.
pub async fn remove_open_case(app: &App) {
    let key = reviewer(app).await;
    let queue = app.state.store().queue(10).await.unwrap();
    assert_eq!(queue.len(), 1, "one open case");
    let body = json!({
        "visibility": ["removed"],
        "ground": "illegal",
        "legal_ground": "nl-sr-254ba",
        "explanation": "The image shows a person nude, published without their consent.",
        "territorial_scope": ["EEA"],
        "content_date": "2026-01-05",
        "facts": "A notice reported the image; the reviewer compared the image with the report.",
        "content_type": ["image"]
    });
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/cases/{}/decision", queue[0].case_id)))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "decision: {status} {text}");
}

#[tokio::test]
async fn follow_the_tracking_link_after_a_decision_and_appeal_from_the_browser() {
    let Some(s) = session("follow_the_tracking_link_after_a_decision_and_appeal").await else { return };
    let app = App::start().await;
    let tracking = file_through_report(&s, &app, "nl").await;
    // Before a decision: received, waiting.
    s.goto(&tracking).await;
    assert_eq!(s.text("#status").await, "Ontvangen, wacht op beoordeling");
    remove_open_case(&app).await;
    // The link from the confirmation (and the e-mails) opens a page in a browser…
    s.goto(&tracking).await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("nl"));
    assert_eq!(s.text("#status").await, "Besloten: de inhoud is verwijderd of beperkt");
    assert!(s.text("#timeline").await.contains("Besluit genomen"));
    let decision = s.text("#decision-text").await;
    assert!(decision.contains("Wij hebben maatregelen genomen"), "{decision}");
    // The page has its own redress section and complaint form below the decision, so the
    // decision text does not repeat the e-mail's redress paragraph ("that page asks for the
    // tracking code …" while the reader is on it).
    assert!(!decision.contains("volgcode") && !decision.contains("bezwaar maken via"), "{decision}");
    assert!(s.exists("#send-appeal").await, "the complaint form is on the page");
    assert!(s.text("#support-list, .support").await.contains("Centrum Seksueel Geweld"));
    check_page(&s, "tracking-decided").await;
    // …while machines read JSON at the API's address of the notice.
    let json: Value = reqwest::Client::new()
        .get(tracking.replace("/track/", "/api/v1/notices/"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(json["decision"].is_object(), "{json}");
    // Appeal from the browser: an empty reason is refused beside the field, then filed.
    s.click("#send-appeal").await;
    assert!(s.text("#reason-error").await.contains("waarom het besluit onjuist is"));
    s.fill("#reason", "Het is geen nepfoto, het is echt een foto van mij, maar dat verandert niets: hij moet weg.")
        .await;
    s.click("#send-appeal").await;
    assert!(s.text("#flash").await.contains("Uw bezwaar is ontvangen"));
    assert_eq!(s.text("#status").await, "Een bezwaar tegen het besluit wordt beoordeeld");
    check_page(&s, "tracking-appealed").await;
    s.close().await;
}

/// The notifier follows the complaint link of the decision (`/complain/{decision}`), types the
/// tracking code and files a complaint: at no step does the code appear in the address bar (it is
/// sent in a form and the pages answer in place), and the pages pass axe at phone and desktop size.
#[tokio::test]
async fn complain_with_the_tracking_code_keeps_it_out_of_every_address() {
    let Some(s) = session("complain_with_the_tracking_code_keeps_it_out_of_every_address").await else { return };
    let app = App::start().await;
    let tracking = file_through_report(&s, &app, "en").await;
    remove_open_case(&app).await;
    let (notice, code) = {
        let rest = &tracking[tracking.find("/track/").expect("tracking address") + "/track/".len()..];
        let (notice, query) = rest.split_once("?token=").expect("token");
        (notice.to_owned(), query.split('&').next().expect("code").to_owned())
    };
    let decision = app.state.store().notice_decision(&notice).await.unwrap().expect("decided").id;
    s.goto(&app.url(&format!("/complain/{decision}?lang=en"))).await;
    check_page(&s, "complain-form").await;
    s.fill("#code", &code).await;
    s.click("form[action^='/complain/'] button[type=submit]").await;
    assert!(!s.url().await.contains(&code), "no code in the address: {}", s.url().await);
    assert!(s.exists("#send-appeal").await, "the tracking page with its complaint form");
    assert_eq!(s.text("#status").await, "Decided: the content was removed or restricted");
    // The language switch keeps the person on their page, still without the code in the address.
    s.click("button[name=switch_lang][value=nl]").await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("nl"));
    assert_eq!(s.text("#status").await, "Besloten: de inhoud is verwijderd of beperkt");
    assert!(!s.url().await.contains(&code), "no code in the address: {}", s.url().await);
    s.click("button[name=switch_lang][value=en]").await;
    s.fill("#reason", "Only one of the two pictures was taken down; the other is still online.").await;
    s.click("#send-appeal").await;
    assert!(!s.url().await.contains(&code), "no code in the address: {}", s.url().await);
    assert!(s.text("#flash").await.contains("received"));
    check_page(&s, "complain-filed").await;
    s.close().await;
}
