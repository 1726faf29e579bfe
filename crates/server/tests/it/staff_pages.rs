//! What the console tests share: a browser-like client, accounts, sign-in through the form, and
//! page reads and form posts with the session cookie (each answer as it is: no redirects followed).

use serde_json::{Value, json};
use staydown_domain::roles::Role;

use crate::support::TestApp;

/// The password of every account these helpers create.
pub const PASSWORD: &str = "a long enough password";

/// A client that keeps no cookies and follows no redirects: each answer is checked as it is.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Creates an account with `PASSWORD` through the admin API; returns its id.
pub async fn account(app: &TestApp, admin: &str, username: &str, role: Role) -> String {
    let (status, body) = app
        .post(
            "/api/v1/accounts",
            &json!({"username": username, "role": role.as_str(), "password": PASSWORD}),
            Some(admin),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// The staff session cookie (`name=value`) an answer sets; panics when it sets none.
pub fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("staydown_staff="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A `multipart/form-data` body of text fields then one file part (`name`, file name, media type,
/// bytes), and its content type.
pub fn multipart(fields: &[(&str, &str)], file: (&str, &str, &str, &[u8])) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "staydown-test-boundary-7c1e";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    let (name, filename, media_type, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
             Content-Type: {media_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Signs in at the page and returns the session cookie (`name=value`) and its CSRF token.
pub async fn sign_in(app: &TestApp, username: &str) -> (String, String) {
    let resp = browser()
        .post(format!("{}/staff/login", app.base))
        .header("accept", "text/html")
        .form(&[("username", username), ("password", PASSWORD), ("next", "/staff/queue")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "sign-in of {username}");
    let cookie = session_cookie(&resp);
    let session: Value = browser()
        .get(format!("{}/api/v1/session", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (cookie, session["csrf_token"].as_str().expect("csrf").to_owned())
}

/// `GET path` as a browser with the session `cookie`: status, `Location` and body.
pub async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String, String) {
    let mut req = browser().get(format!("{}{path}", app.base)).header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req).await
}

/// Posts a form as a browser with the session `cookie`: status, `Location` and body.
pub async fn post_form(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let req = browser().post(format!("{}{path}", app.base)).header("accept", "text/html").header("cookie", cookie);
    answer(req.form(form)).await
}

async fn answer(req: reqwest::RequestBuilder) -> (u16, String, String) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, location, resp.text().await.unwrap_or_default())
}

/// The `href` of the language switch's link to `lang` on a page (`&amp;`, `&#38;` decoded).
pub fn switch_link(html: &str, lang: &str) -> String {
    let marker = format!("lang=\"{lang}\" hreflang=\"{lang}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no switch to {lang}: {html}"));
    let before = &html[..at];
    let start = before.rfind("href=\"").expect("href") + "href=\"".len();
    let end = start + before[start..].find('"').expect("closing quote");
    before[start..end].replace("&amp;", "&").replace("&#38;", "&")
}
