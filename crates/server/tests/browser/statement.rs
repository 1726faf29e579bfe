use serde_json::{Value, json};

use crate::app::{App, check_page, session};
use crate::follow::reviewer;
use crate::report::file_through_report;

/// The uploader opens the statement-of-reasons link from the platform's message in a browser, reads
/// it in English, and files an internal complaint (Art. 20) from the page.
#[tokio::test]
async fn the_uploader_reads_the_statement_and_appeals_in_the_browser() {
    let Some(s) = session("the_uploader_reads_the_statement_and_appeals_in_the_browser").await else { return };
    let app = App::start().await;
    file_through_report(&s, &app, "en").await;
    let key = reviewer(&app).await;
    let queue = app.state.store().queue(10).await.unwrap();
    let decided: Value = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/cases/{}/decision", queue[0].case_id)))
        .bearer_auth(&key)
        .json(&json!({
            "visibility": ["removed"], "ground": "illegal", "legal_ground": "nl-sr-254ba",
            "explanation": "A sexual deepfake of a real person, published without her consent.",
            "territorial_scope": ["EEA"], "content_date": "2026-01-05",
            "facts": "A notice reported the image; the reviewer compared it with the report.",
            "content_type": ["image", "synthetic_media"]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = decided["id"].as_str().expect("decision id");
    let token = decided["uploader_appeal_token"].as_str().expect("uploader token");
    s.goto(&app.url(&format!("/api/v1/decisions/{id}/statement?token={token}&lang=en"))).await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("en"));
    let text = s.text("#statement-text").await;
    assert!(text.contains("254ba") && text.contains("removed"), "{text}");
    check_page(&s, "statement").await;
    // An empty complaint is refused beside the field; a reasoned one is filed.
    s.click("#send-appeal").await;
    assert!(!s.text("#reason-error").await.is_empty());
    check_page(&s, "statement-error").await;
    s.fill("#reason", "The person in the picture is me and I agreed to publish it.").await;
    s.click("#send-appeal").await;
    assert!(s.text("#flash").await.contains("received"), "the complaint was confirmed");
    let appeals = app.state.store().case_appeals(&queue[0].case_id).await.unwrap();
    assert_eq!(appeals.len(), 1, "one appeal stored");
    assert_eq!(appeals[0].appellant.as_str(), "uploader");
    s.close().await;
}
