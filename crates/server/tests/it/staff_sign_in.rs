use std::net::SocketAddr;

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;

use crate::staff_pages::{PASSWORD, account, browser};
use crate::support::{TestApp, each_backend};

/// Posts the sign-in form from `base`; returns the status, `Set-Cookie` and `Location`.
async fn sign_in_at(base: &str, username: &str, password: &str, cookie: Option<&str>) -> (u16, String, String) {
    let mut req = browser().post(format!("{base}/staff/login")).form(&[
        ("username", username),
        ("password", password),
        ("next", "/staff/cases/x"),
    ]);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.expect("sign in");
    let header = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (resp.status().as_u16(), header("set-cookie"), header("location"))
}

async fn sign_in(app: &TestApp, username: &str, password: &str, cookie: Option<&str>) -> (u16, String, String) {
    sign_in_at(&app.base, username, password, cookie).await
}

/// `name=value` of a `Set-Cookie` header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().trim().to_owned()
}

async fn session(app: &TestApp, cookie: &str) -> (u16, Value) {
    let resp = browser().get(format!("{}/api/v1/session", app.base)).header("cookie", cookie).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post_form(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    browser().post(format!("{}{path}", app.base)).header("cookie", cookie).form(form).send().await.unwrap()
}

/// Sign-in gives an `HttpOnly; SameSite=Strict` cookie whose id is stored only as a digest;
/// sign-out needs the session's CSRF token and ends the session.
#[tokio::test]
async fn sign_in_and_sign_out_with_a_strict_http_only_cookie() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "rita", Role::Reviewer).await;
        let (status, set_cookie, location) = sign_in(&app, "rita", PASSWORD, None).await;
        assert_eq!(status, 303, "{set_cookie}");
        assert_eq!(location, "/staff/cases/x", "a local next page is followed");
        assert!(set_cookie.starts_with("staydown_staff="), "{set_cookie}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set_cookie.contains(attribute), "{set_cookie} lacks {attribute}");
        }
        assert!(!set_cookie.contains("Secure"), "plain http test server: no Secure");
        let cookie = cookie_pair(&set_cookie);
        let id = cookie.split_once('=').unwrap().1.to_owned();
        let now = app.state.now();
        assert!(app.store().staff_session(&secret_digest(&id), now).await.unwrap().is_some());
        assert!(app.store().staff_session(&id, now).await.unwrap().is_none(), "only the digest is stored");

        let (status, me) = session(&app, &cookie).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("rita"), Some("reviewer")));
        let csrf = me["csrf_token"].as_str().unwrap().to_owned();

        let resp = post_form(&app, "/staff/logout", &cookie, &[("csrf", "not-the-token")]).await;
        assert_eq!(resp.status().as_u16(), 403, "sign-out without the CSRF token is refused");
        assert_eq!(session(&app, &cookie).await.0, 200, "and the session goes on");
        let resp = post_form(&app, "/staff/logout", &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(resp.status().as_u16(), 303);
        let cleared = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(session(&app, &cookie).await.0, 401, "the session has ended");

        // A foreign `next` is not followed; a wrong password sets no cookie.
        let (_, _, location) = sign_in(&app, "rita", PASSWORD, None).await;
        assert_eq!(location, "/staff/cases/x");
        let resp = browser()
            .post(format!("{}/staff/login", app.base))
            .form(&[("username", "rita"), ("password", PASSWORD), ("next", "//evil.example/")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["location"], "/staff");
        let (status, set_cookie, _) = sign_in(&app, "rita", "wrong password", None).await;
        // (The public pages' anonymous CSRF cookie may be set on any HTML answer; no session is.)
        assert_eq!(status, 401);
        assert!(!set_cookie.contains("staydown_staff"), "{set_cookie}");
        // A sign-in form posted from another site is refused (login CSRF).
        let resp = browser()
            .post(format!("{}/staff/login", app.base))
            .header("origin", "https://evil.example")
            .form(&[("username", "rita"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        assert!(
            resp.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap_or_default().contains("staydown_staff")),
            "no session for a forged sign-in"
        );
    })
    .await;
}

/// Over https the cookie is `Secure` and `__Host-` prefixed.
#[tokio::test]
async fn the_cookie_is_secure_when_served_over_https() {
    let backend = staydown_testkit::backends().await[0];
    let settings = staydown_server::Settings {
        public_url: "https://staydown.example".into(),
        ..staydown_server::Settings::default()
    };
    let app = TestApp::start_with(backend, settings).await;
    let admin = app.key(Role::Admin, "admin").await;
    account(&app, &admin, "sam", Role::Auditor).await;
    let (status, set_cookie, _) = sign_in(&app, "sam", PASSWORD, None).await;
    assert_eq!(status, 303);
    assert!(set_cookie.starts_with("__Host-staydown_staff="), "{set_cookie}");
    assert!(set_cookie.contains("; Secure") && set_cookie.contains("HttpOnly"), "{set_cookie}");
}

/// Session fixation: a session id the browser held before signing in (planted by someone else,
/// or left from an earlier sign-in) is never the signed-in id, and it stops working.
#[tokio::test]
async fn sign_in_issues_a_new_session_id_and_ends_the_old_one() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "mallory", Role::Reviewer).await;
        account(&app, &admin, "victim", Role::SeniorReviewer).await;
        // The attacker's own valid session id, planted in the victim's browser.
        let (_, planted, _) = sign_in(&app, "mallory", PASSWORD, None).await;
        let planted = cookie_pair(&planted);
        let (status, issued, _) = sign_in(&app, "victim", PASSWORD, Some(&planted)).await;
        assert_eq!(status, 303);
        let issued = cookie_pair(&issued);
        assert_ne!(issued, planted, "a new id at sign-in");
        assert_eq!(session(&app, &planted).await.0, 401, "the planted id is dead");
        let (status, me) = session(&app, &issued).await;
        assert_eq!((status, me["username"].as_str()), (200, Some("victim")));
        // A made-up id is not adopted either.
        let (_, issued, _) = sign_in(&app, "victim", PASSWORD, Some("staydown_staff=chosen-by-attacker")).await;
        assert!(!issued.contains("chosen-by-attacker"));
        assert_eq!(session(&app, "staydown_staff=chosen-by-attacker").await.0, 401);
    })
    .await;
}

/// Idle expiry (30 min without a request) and absolute expiry (12 h however active).
#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "ida", Role::Reviewer).await;
        let (_, c, _) = sign_in(&app, "ida", PASSWORD, None).await;
        let idle = cookie_pair(&c);
        app.advance(time::Duration::minutes(29));
        assert_eq!(session(&app, &idle).await.0, 200, "used within the idle limit");
        app.advance(time::Duration::minutes(29));
        assert_eq!(session(&app, &idle).await.0, 200, "use moved the idle expiry forward");
        app.advance(time::Duration::minutes(31));
        assert_eq!(session(&app, &idle).await.0, 401, "idle too long");

        let (_, c, _) = sign_in(&app, "ida", PASSWORD, None).await;
        let busy = cookie_pair(&c);
        for _ in 0..(12 * 60 / 20 - 1) {
            app.advance(time::Duration::minutes(20));
            assert_eq!(session(&app, &busy).await.0, 200);
        }
        app.advance(time::Duration::minutes(21));
        assert_eq!(session(&app, &busy).await.0, 401, "12 h after sign-in, however active");
    })
    .await;
}

/// Serves the app's router on another loopback port with connection info, so that throttling
/// per client address applies (the default test server has no peer addresses).
async fn serve_with_peer_addresses(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = staydown_server::router(app.state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.ok();
    });
    format!("http://{addr}")
}

async fn request_key(base: &str, username: &str, password: &str) -> reqwest::Response {
    browser().post(format!("{base}/api/v1/keys")).basic_auth(username, Some(password)).send().await.unwrap()
}

/// Failed sign-ins and key requests are throttled per account name and per address: a clear 429
/// with Retry-After, the right password refused too while throttled, and back after the window.
#[tokio::test]
async fn password_guessing_is_throttled_per_account_and_per_address() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "tess", Role::Reviewer).await;
        for i in 0..5 {
            // Mixed: form sign-ins and key requests count together.
            let status = if i % 2 == 0 {
                sign_in(&app, "tess", "guess", None).await.0
            } else {
                request_key(&app.base, "tess", "guess").await.status().as_u16()
            };
            assert_eq!(status, 401, "failure {i}");
        }
        let resp = request_key(&app.base, "tess", PASSWORD).await;
        assert_eq!(resp.status().as_u16(), 429, "the right password is refused while throttled");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["type"], "/problems/sign-in-throttled");
        let (status, _, _) = sign_in(&app, "tess", PASSWORD, None).await;
        assert_eq!(status, 429, "the form too");
        app.advance(time::Duration::minutes(16));
        assert_eq!(request_key(&app.base, "tess", PASSWORD).await.status().as_u16(), 201, "after the window");

        // Per address: 20 failures over many names from one address stop a 21st name.
        let base = serve_with_peer_addresses(&app).await;
        for i in 0..20 {
            let status = sign_in_at(&base, &format!("nobody{i}"), "guess", None).await.0;
            assert_eq!(status, 401);
        }
        let resp = request_key(&base, "tess", PASSWORD).await;
        assert_eq!(resp.status().as_u16(), 429, "throttled by address");
        assert!(resp.headers().contains_key("retry-after"));
        assert_eq!(sign_in_at(&base, "tess", PASSWORD, None).await.0, 429);
    })
    .await;
}

/// An admin disables an account: its sessions and keys stop at once, and it cannot sign in.
#[tokio::test]
async fn disabling_an_account_stops_its_sessions_and_keys_at_once() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        let id = account(&app, &admin, "dan", Role::Reviewer).await;
        let key: Value = request_key(&app.base, "dan", PASSWORD).await.json().await.unwrap();
        let key = key["key"].as_str().unwrap().to_owned();
        let (_, c, _) = sign_in(&app, "dan", PASSWORD, None).await;
        let cookie = cookie_pair(&c);
        assert_eq!(app.get("/api/v1/queue", Some(&key)).await.0, 200);

        let reviewer = app.staff(Role::Reviewer, "other").await;
        let (status, _) = app.post(&format!("/api/v1/accounts/{id}/disable"), &json!({}), Some(&reviewer)).await;
        assert_eq!(status, 403, "only admins");
        let (status, body) = app.post(&format!("/api/v1/accounts/{id}/disable"), &json!({}), Some(&admin)).await;
        assert_eq!((status, body["disabled"].as_bool()), (200, Some(true)), "{body}");
        assert_eq!(app.get("/api/v1/queue", Some(&key)).await.0, 401, "key stopped");
        assert_eq!(session(&app, &cookie).await.0, 401, "session stopped");
        assert_eq!(sign_in(&app, "dan", PASSWORD, None).await.0, 401, "cannot sign in");
        let (status, accounts) = app.get("/api/v1/accounts", Some(&admin)).await;
        assert_eq!(status, 200);
        let dan = accounts.as_array().unwrap().iter().find(|a| a["username"] == "dan").unwrap().clone();
        assert_eq!(dan["disabled"], true);
        assert!(dan.get("password_hash").is_none());
        let (status, _) = app.post(&format!("/api/v1/accounts/{id}/enable"), &json!({}), Some(&admin)).await;
        assert_eq!(status, 200);
        assert_eq!(sign_in(&app, "dan", PASSWORD, None).await.0, 303);
        let actions: Vec<String> =
            app.store().audit_for(&format!("account:{id}")).await.unwrap().into_iter().map(|e| e.action).collect();
        assert!(actions.contains(&"account.disabled".to_owned()) && actions.contains(&"account.enabled".to_owned()));
    })
    .await;
}

/// Admins reset a password (sessions end, keys are revoked); a person changes their own,
/// through the API (current password required) or the form (CSRF, this session stays).
#[tokio::test]
async fn passwords_are_reset_by_admins_and_changed_by_their_owner() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        let id = account(&app, &admin, "pia", Role::SeniorReviewer).await;
        let key: Value = request_key(&app.base, "pia", PASSWORD).await.json().await.unwrap();
        let key = key["key"].as_str().unwrap().to_owned();
        let (_, c, _) = sign_in(&app, "pia", PASSWORD, None).await;
        let cookie = cookie_pair(&c);
        let (status, body) =
            app.post(&format!("/api/v1/accounts/{id}/password"), &json!({"password": "short"}), Some(&admin)).await;
        assert_eq!((status, crate::support::error_fields(&body)), (422, vec!["password".to_owned()]));
        let reset = "reset by the admin today";
        let (status, _) =
            app.post(&format!("/api/v1/accounts/{id}/password"), &json!({"password": reset}), Some(&admin)).await;
        assert_eq!(status, 204);
        assert_eq!(app.get("/api/v1/queue", Some(&key)).await.0, 401, "keys revoked at reset");
        assert_eq!(session(&app, &cookie).await.0, 401, "sessions ended at reset");
        assert_eq!(sign_in(&app, "pia", PASSWORD, None).await.0, 401, "old password gone");

        // Own change through the API with a fresh personal key.
        let key: Value = request_key(&app.base, "pia", reset).await.json().await.unwrap();
        let key = key["key"].as_str().unwrap().to_owned();
        let (_, c, _) = sign_in(&app, "pia", reset, None).await;
        let other_browser = cookie_pair(&c);
        let (status, body) = app
            .post(
                "/api/v1/account/password",
                &json!({"current_password": "nope", "new_password": "my own new password"}),
                Some(&key),
            )
            .await;
        assert_eq!((status, crate::support::error_fields(&body)), (422, vec!["current_password".to_owned()]));
        let (status, _) = app
            .post(
                "/api/v1/account/password",
                &json!({"current_password": reset, "new_password": "my own new password"}),
                Some(&key),
            )
            .await;
        assert_eq!(status, 204);
        assert_eq!(session(&app, &other_browser).await.0, 401, "browser sessions end");
        assert_eq!(app.get("/api/v1/queue", Some(&key)).await.0, 200, "the person's own key goes on");

        // Own change through the form: CSRF token needed; this session stays, others end.
        let (_, c, _) = sign_in(&app, "pia", "my own new password", None).await;
        let this = cookie_pair(&c);
        let (_, c, _) = sign_in(&app, "pia", "my own new password", None).await;
        let other = cookie_pair(&c);
        let csrf = session(&app, &this).await.1["csrf_token"].as_str().unwrap().to_owned();
        let form = [("current_password", "my own new password"), ("new_password", "changed in the browser")];
        let resp = post_form(&app, "/staff/password", &this, &form).await;
        assert_eq!(resp.status().as_u16(), 403, "no CSRF token");
        let other_csrf = session(&app, &other).await.1["csrf_token"].as_str().unwrap().to_owned();
        let with = |token: &str| {
            vec![
                ("csrf", token.to_owned()),
                ("current_password", form[0].1.to_owned()),
                ("new_password", form[1].1.to_owned()),
            ]
        };
        let resp = browser()
            .post(format!("{}/staff/password", app.base))
            .header("cookie", &this)
            .form(&with(&other_csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403, "another session's token does not do");
        let resp = browser()
            .post(format!("{}/staff/password", app.base))
            .header("cookie", &this)
            .form(&with(&csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        assert_eq!(session(&app, &this).await.0, 200, "this session stays");
        assert_eq!(session(&app, &other).await.0, 401, "the other ends");
        assert_eq!(sign_in(&app, "pia", "changed in the browser", None).await.0, 303);
    })
    .await;
}

/// Personal keys expire (90 days by default) and are listed: everything for admins and auditors,
/// only their own for others; a person revokes their own key, not someone else's.
#[tokio::test]
async fn keys_are_listed_expire_and_are_revoked() {
    each_backend(|app| async move {
        let admin = app.key(Role::Admin, "admin").await;
        account(&app, &admin, "kim", Role::Reviewer).await;
        account(&app, &admin, "lou", Role::Auditor).await;
        let issued: Value = request_key(&app.base, "kim", PASSWORD).await.json().await.unwrap();
        let kim = issued["key"].as_str().unwrap().to_owned();
        let expires = crate::support::parse_time(&issued["expires_at"]);
        let days = (expires - app.state.now()).whole_days();
        assert!((89..=90).contains(&days), "{days}");
        let lou_issued: Value = request_key(&app.base, "lou", PASSWORD).await.json().await.unwrap();
        let lou = lou_issued["key"].as_str().unwrap().to_owned();

        let (status, own) = app.get("/api/v1/keys", Some(&kim)).await;
        assert_eq!(status, 200);
        let own = own.as_array().unwrap();
        assert_eq!(own.len(), 1);
        assert_eq!((own[0]["id"].clone(), own[0]["state"].clone()), (issued["key_id"].clone(), json!("active")));
        let (status, all) = app.get("/api/v1/keys", Some(&lou)).await;
        assert_eq!(status, 200);
        assert_eq!(all.as_array().unwrap().len(), 3, "auditors see every key: {all}");
        assert!(!all.to_string().contains(&kim), "never the secret");

        let lou_id = lou_issued["key_id"].as_str().unwrap();
        assert_eq!(app.delete(&format!("/api/v1/keys/{lou_id}"), Some(&kim)).await, 403);

        app.advance(time::Duration::days(91));
        assert_eq!(app.get("/api/v1/queue", Some(&kim)).await.0, 401, "expired");
        let (_, all) = app.get("/api/v1/keys", Some(&admin)).await;
        let listed = all.as_array().unwrap().iter().find(|k| k["id"] == issued["key_id"]).unwrap().clone();
        assert_eq!(listed["state"], "expired");

        let fresh: Value = request_key(&app.base, "kim", PASSWORD).await.json().await.unwrap();
        let fresh_key = fresh["key"].as_str().unwrap();
        let fresh_id = fresh["key_id"].as_str().unwrap();
        assert_eq!(app.delete(&format!("/api/v1/keys/{fresh_id}"), Some(fresh_key)).await, 204, "own key");
        assert_eq!(app.get("/api/v1/queue", Some(fresh_key)).await.0, 401, "revoked");
    })
    .await;
}
