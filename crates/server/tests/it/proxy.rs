//! Behind a reverse proxy: the per-address limit keys on the forwarded client only when the peer
//! is a trusted proxy; IPv6 clients share a /64; `/metrics` is not public.

use std::net::SocketAddr;
use std::sync::Arc;

use staydown_domain::policy::Policy;
use staydown_server::{AppState, Mailer, MetricsAccess, Settings};
use staydown_store::Store;
use staydown_testkit::{Backend, fresh_database};

use crate::support::notice;

/// A server with connection info (as `staydown serve` runs it), on loopback.
async fn serve(settings: Settings) -> (String, staydown_testkit::TestDatabase) {
    let db = fresh_database(Backend::Sqlite).await;
    let store = Store::connect(&db.url).await.unwrap();
    let (mailer, _, _) = Mailer::memory();
    let state = AppState::new(store, Policy::default(), settings, mailer, Arc::new(time::OffsetDateTime::now_utc));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = staydown_server::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}"), db)
}

async fn file_from(client: &reqwest::Client, base: &str, forwarded_for: &str, i: usize) -> u16 {
    client
        .post(format!("{base}/api/v1/notices"))
        .header("x-forwarded-for", forwarded_for)
        .json(&notice(&format!("https://example.com/p/{forwarded_for}/{i}")))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn limited(trusted: &[&str]) -> Settings {
    Settings {
        public_notices_per_minute: 1,
        public_notice_burst: 2,
        trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
        ..Settings::default()
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let (base, _db) = serve(limited(&["127.0.0.1/32"])).await;
    let client = reqwest::Client::new();
    let a = "198.51.100.7";
    assert_eq!([file_from(&client, &base, a, 1).await, file_from(&client, &base, a, 2).await], [201, 201]);
    assert_eq!(file_from(&client, &base, a, 3).await, 429, "client A is over its burst");
    assert_eq!(file_from(&client, &base, "198.51.100.8", 1).await, 201, "client B is not punished for A");
    // A client behind the proxy cannot dodge its limit by prepending addresses.
    assert_eq!(file_from(&client, &base, &format!("203.0.113.1, {a}"), 4).await, 429);
    // IPv6: the same /64 shares one limit.
    assert_eq!(file_from(&client, &base, "2001:db8:1:2::a", 1).await, 201);
    assert_eq!(file_from(&client, &base, "2001:db8:1:2::b", 1).await, 201);
    assert_eq!(file_from(&client, &base, "2001:db8:1:2:ffff::c", 1).await, 429);
    assert_eq!(file_from(&client, &base, "2001:db8:1:3::a", 1).await, 201);
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let (base, _db) = serve(limited(&[])).await;
    let client = reqwest::Client::new();
    let statuses = [
        file_from(&client, &base, "198.51.100.1", 1).await,
        file_from(&client, &base, "198.51.100.2", 1).await,
        file_from(&client, &base, "198.51.100.3", 1).await,
    ];
    assert_eq!(statuses, [201, 201, 429], "every request counts against the peer itself");
}

#[tokio::test]
async fn metrics_need_a_token_when_one_is_configured() {
    let token = "metrics-token-0123456789abcdef";
    let (base, _db) =
        serve(Settings { metrics_access: MetricsAccess::Token(token.into()), ..Settings::default() }).await;
    let client = reqwest::Client::new();
    let anonymous = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 404);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    let wrong =
        client.get(format!("{base}/metrics")).bearer_auth("metrics-token-0123456789abcdeX").send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    let scraped = client.get(format!("{base}/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("staydown_queue_depth"));

    // Served elsewhere: the main router has no /metrics at all.
    let (base, _db) = serve(Settings { metrics_access: MetricsAccess::Elsewhere, ..Settings::default() }).await;
    assert_eq!(client.get(format!("{base}/metrics")).send().await.unwrap().status(), 404);
    // Loopback (the default) from loopback.
    let (base, _db) = serve(Settings::default()).await;
    assert_eq!(client.get(format!("{base}/metrics")).send().await.unwrap().status(), 200);
}

/// The `/report` form keeps the API's per-address limit for anonymous notices: over it, the person
/// gets a readable 429 page in their language with `Retry-After`, and what they typed is still there.
#[tokio::test]
async fn the_report_form_is_limited_like_the_api_with_a_readable_page() {
    let (base, _db) = serve(limited(&[])).await;
    let client = reqwest::Client::new();
    let form_page = client.get(format!("{base}/report?lang=en")).header("accept", "text/html").send().await.unwrap();
    let cookie = form_page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("staydown_csrf="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .expect("the form sets its CSRF cookie");
    let html = form_page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_owned();
    let send = |i: usize| {
        let explanation = format!("A fake nude of me, number {i}.");
        client
            .post(format!("{base}/report?lang=en"))
            .header("accept", "text/html")
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("locations", &format!("https://video.example/watch/{i}")),
                ("what", "deepfake"),
                ("explanation", explanation.as_str()),
                ("ai", "yes"),
                ("minor", "no"),
                ("name", "Sanne de Vries"),
                ("email", "sanne@example.org"),
                ("good_faith", "yes"),
            ])
            .send()
    };
    let first = [send(1).await.unwrap().status().as_u16(), send(2).await.unwrap().status().as_u16()];
    assert!(first.iter().all(|s| (200..400).contains(s)), "within the burst: {first:?}");
    let over = send(3).await.unwrap();
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
    assert!(over.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = over.text().await.unwrap();
    assert!(page.contains("A fake nude of me, number 3."), "what was typed is kept");
    assert!(page.contains("<html") && page.contains("lang=\"en\""), "a readable page");
}
