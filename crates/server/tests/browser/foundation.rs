use crate::app::{App, check_page, session};

#[tokio::test]
async fn home_page_in_both_languages_with_switch_and_error_pages() {
    let Some(s) = session("home_page_in_both_languages_with_switch_and_error_pages").await else { return };
    let app = App::start().await;
    s.goto(&app.url("/?lang=en")).await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("en"));
    assert!(s.text("h1").await.contains("Report intimate images"));
    check_page(&s, "home").await;
    // The switch: one click to Dutch, remembered by a cookie on the next page.
    s.click(".langs a[lang=nl]").await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("nl"));
    assert!(s.text("h1").await.contains("Meld intieme beelden"), "{}", s.text("h1").await);
    s.goto(&app.url("/no-such-page")).await;
    assert_eq!(s.attr("html", "lang").await.as_deref(), Some("nl"));
    assert_eq!(s.text("h1").await, "Pagina niet gevonden");
    check_page(&s, "error-404").await;
    s.close().await;
}

#[tokio::test]
async fn browsers_get_pages_and_api_clients_keep_problem_json() {
    let app = App::start().await;
    let http = reqwest::Client::new();
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = http.get(app.url("/nope")).header("accept", browser_accept).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let h = page.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let api = http.get(app.url("/nope")).header("accept", "application/json").send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    // A wrong method on an API route: a page for a browser (with Allow kept), JSON otherwise.
    let r = http.get(app.url("/api/v1/notices")).header("accept", browser_accept).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("<h1>"), "{body}");
    let r = http.get(app.url("/api/v1/notices")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    // Static files.
    let css = http.get(app.url("/static/site.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let icon = http.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    // Every HTML page, including the home page, has the headers.
    let home = http.get(app.url("/")).send().await.unwrap();
    assert!(home.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

#[tokio::test]
async fn help_policy_and_privacy_pages_from_configuration() {
    let Some(s) = session("help_policy_and_privacy_pages_from_configuration").await else { return };
    let app = App::start().await;
    s.goto(&app.url("/help?lang=nl")).await;
    let list = s.text("#support-list").await;
    for name in ["112", "Politie", "Centrum Seksueel Geweld", "Slachtofferhulp Nederland", "Helpwanted"] {
        assert!(list.contains(name), "{name} missing from {list}");
    }
    check_page(&s, "help").await;
    s.goto(&app.url("/policy?lang=en")).await;
    let text = s.text("main").await;
    // From the configured policy (default: 1 h urgent, 4 h trusted flaggers, 24 h others) and banks.
    assert!(text.contains("within 1 hour\n") && text.contains("within 24 hours"), "{text}");
    assert!(!text.contains("1 hours"));
    assert!(text.contains("Fotoplek"), "names the configured service");
    check_page(&s, "policy").await;
    s.goto(&app.url("/privacy?lang=nl")).await;
    assert!(s.text("main").await.contains("Autoriteit Persoonsgegevens"));
    check_page(&s, "privacy").await;
    s.close().await;
}
