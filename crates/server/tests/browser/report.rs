use staydown_testkit::browser::Session;

use crate::app::{App, check_page, session};

async fn fill_report(s: &Session, url: &str, explanation: &str) {
    s.fill("#locations", url).await;
    s.click("#what-deepfake").await;
    s.fill("#explanation", explanation).await;
    s.click("#ai-yes").await;
    s.fill("#generator", "ClothOff").await;
    s.click("#minor-no").await;
    s.fill("#name", "Sanne de Vries").await;
    s.fill("#email", "sanne@example.org").await;
}

/// Files a notice through `/report` in `lang`, first with a mistake (errors beside the fields in
/// that language, nothing typed lost), then corrected; returns the tracking link.
pub async fn file_through_report(s: &Session, app: &App, lang: &str) -> String {
    s.goto(&app.url(&format!("/report?lang={lang}"))).await;
    let explanation = if lang == "nl" { "Een nepnaaktfoto van mij." } else { "A fake nude of me." };
    fill_report(s, "https://video.example/watch/123", explanation).await;
    // Forget the good-faith box and break the e-mail address.
    s.fill("#email", "sanne-at-example").await;
    s.click("#send").await;
    let summary = s.text("#error-summary").await;
    // Focus lands on the summary, so a screen reader reads it and Tab goes on to its links.
    let focused =
        s.client.execute("return document.activeElement && document.activeElement.id;", vec![]).await.unwrap();
    assert_eq!(focused, serde_json::json!("error-summary"));
    if lang == "nl" {
        assert!(summary.contains("Controleer het volgende"), "{summary}");
        assert!(s.text("#email-error").await.contains("geen geldig e-mailadres"));
        assert!(s.text("#good_faith-error").await.contains("Vink het vakje aan"));
    } else {
        assert!(summary.contains("Please check the following"), "{summary}");
        assert!(s.text("#email-error").await.contains("not a valid e-mail address"));
        assert!(s.text("#good_faith-error").await.contains("Tick the box"));
    }
    // Nothing typed is lost.
    assert_eq!(s.value("#locations").await, "https://video.example/watch/123");
    assert_eq!(s.value("#explanation").await, explanation);
    assert_eq!(s.value("#generator").await, "ClothOff");
    assert!(s.find("#what-deepfake").await.is_selected().await.unwrap());
    check_page(s, &format!("report-errors-{lang}")).await;
    s.fill("#email", "sanne@example.org").await;
    s.click("#good_faith").await;
    s.click("#send").await;
    let code = s.text("#case-code").await;
    assert_eq!(code.len(), 36, "case code {code}");
    check_page(s, &format!("received-{lang}")).await;
    s.attr("#tracking-link", "href").await.expect("tracking link")
}

#[tokio::test]
async fn report_in_dutch_and_english_maps_plain_words_to_the_database_vocabulary() {
    let Some(s) = session("report_in_dutch_and_english").await else { return };
    let app = App::start().await;
    s.goto(&app.url("/report?lang=en")).await;
    check_page(&s, "report").await;
    for lang in ["nl", "en"] {
        let tracking = file_through_report(&s, &app, lang).await;
        assert!(tracking.starts_with(&app.base), "{tracking}");
        // The stored notice carries the Transparency Database terms the person never saw.
        // The tracking link is the page; the API's address of the same notice gives the JSON.
        let id = tracking.split("/track/").nth(1).unwrap().split('?').next().unwrap().to_owned();
        let api = tracking.replace("/track/", "/api/v1/notices/");
        let (status, view) = {
            let r = reqwest::Client::new().get(&api).header("accept", "application/json").send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        };
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["id"], id);
        assert_eq!(view["category"], "STATEMENT_CATEGORY_CYBER_VIOLENCE");
        assert_eq!(view["keywords"], serde_json::json!(["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"]));
    }
    // The page never shows the codes.
    s.goto(&app.url("/report?lang=nl")).await;
    let source = s.client.source().await.unwrap();
    assert!(!source.contains("STATEMENT_CATEGORY") && !source.contains("KEYWORD_"));
    s.close().await;
}

#[tokio::test]
async fn a_forged_form_is_refused_and_keeps_what_was_typed() {
    let app = App::start().await;
    let http = reqwest::Client::new();
    let r = http
        .post(app.url("/report"))
        .header("accept", "text/html")
        .form(&[("csrf", "0".repeat(64)), ("explanation", "kept text".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("kept text"), "typed text is shown again");
    assert_eq!(app.store_notice_count().await, 0);
}

/// A person half-way through the form switches language: the form comes back in Dutch with
/// everything they typed and chose, and they can send it from there.
#[tokio::test]
async fn switching_language_half_way_keeps_what_was_typed() {
    let Some(s) = session("switching_language_half_way").await else { return };
    let app = App::start().await;
    s.goto(&app.url("/report?lang=en")).await;
    fill_report(&s, "https://video.example/watch/456", "Typed in English first.").await;
    // The switch is a button that looks like the links: on the current language's line (not a
    // 44 px button box), and its hover rule clears the dark button background that made its dark
    // text unreadable under the pointer.
    let button = s.find("button[name=switch_lang][value=nl]").await;
    let current = s.find(".langs .current").await;
    let (b, c) = (button.rectangle().await.unwrap(), current.rectangle().await.unwrap());
    assert!((b.1 - c.1).abs() <= 3.0 && b.3 <= c.3 + 6.0, "switch {b:?} beside the current language {c:?}");
    let hover = s
        .client
        .execute(
            "return [...document.styleSheets].flatMap(x => [...x.cssRules]) \
               .filter(r => r.selectorText && r.selectorText.includes('.lang-switch:hover')) \
               .map(r => r.style.backgroundImage + '/' + r.style.backgroundColor).join(',');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hover.as_str(), Some("none/initial"), "the hover rule clears the background");
    s.click("button[name=switch_lang][value=nl]").await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("nl"));
    assert_eq!(s.value("#locations").await, "https://video.example/watch/456");
    assert_eq!(s.value("#explanation").await, "Typed in English first.");
    assert_eq!(s.value("#email").await, "sanne@example.org");
    assert!(s.find("#what-deepfake").await.is_selected().await.unwrap());
    assert!(!s.exists("#error-summary").await, "nothing was checked yet");
    assert_eq!(app.store_notice_count().await, 0, "nothing was filed");
    s.click("#good_faith").await;
    s.click("#send").await;
    assert_eq!(s.text("#case-code").await.len(), 36);
    assert_eq!(app.store_notice_count().await, 1);
    s.close().await;
}
