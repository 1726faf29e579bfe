use serde_json::json;
use staydown_domain::roles::Role;

use crate::support::TestApp;

/// Who may call what: `None` is an anonymous caller.
fn expected(method: &str, path: &str, role: Option<Role>) -> bool {
    use Role::*;
    let staff = matches!(role, Some(Reviewer | SeniorReviewer | Admin));
    match (method, path) {
        ("GET", "/api/v1/categories" | "/api/v1/legal-grounds") => true,
        ("POST", "/api/v1/notices") => !matches!(role, Some(Auditor | Caseworker)),
        // The token decides; anyone may try.
        ("POST", "/api/v1/decisions/{id}/appeals") => true,
        ("GET", "/api/v1/queue" | "/api/v1/cases/{id}" | "/api/v1/decisions/{id}" | "/api/v1/appeals/{id}") => staff,
        ("POST", "/api/v1/cases/{id}/decision" | "/api/v1/cases/{id}/take" | "/api/v1/cases/{id}/art18") => staff,
        ("GET", "/api/v1/cases/{id}/art18") => staff,
        ("GET", "/api/v1/appeals") => staff,
        ("POST", "/api/v1/cases/{id}/content") => staff || role == Some(Platform),
        ("POST", "/api/v1/transparency/submissions/requeue") => role == Some(Admin),
        ("GET", "/api/v1/cases/{id}/content/{id}") => staff,
        ("POST", "/api/v1/cases/{id}/content/{id}/legal-hold") => matches!(role, Some(SeniorReviewer | Admin)),
        ("POST", "/api/v1/appeals/{id}/decision") => role == Some(SeniorReviewer),
        ("GET", "/api/v1/decisions/{id}/statement") => {
            matches!(role, Some(Reviewer | SeniorReviewer | Admin | Auditor | Platform))
        }
        ("POST", "/api/v1/accounts")
        | (
            "POST",
            "/api/v1/accounts/{id}/disable" | "/api/v1/accounts/{id}/enable" | "/api/v1/accounts/{id}/password",
        )
        | ("DELETE", "/api/v1/keys/{id}") => role == Some(Admin),
        ("GET", "/api/v1/accounts" | "/api/v1/keys") => matches!(role, Some(Admin | Auditor)),
        // Only a staff account's personal key (none in this matrix) changes its own password; the
        // session endpoint takes a session cookie, never a key.
        ("POST", "/api/v1/account/password") | ("GET", "/api/v1/session") => false,
        ("GET", "/api/v1/outbox/dead" | "/api/v1/misuse" | "/api/v1/transparency/submissions") => {
            matches!(role, Some(Admin | Auditor))
        }
        ("POST", "/api/v1/outbox/dead/{id}/resend") => role == Some(Admin),
        ("POST", "/api/v1/screen") => matches!(role, Some(Platform | Admin)),
        ("GET", "/api/v1/stats") => matches!(role, Some(Reviewer | SeniorReviewer | Admin | Auditor)),
        ("GET" | "POST", "/api/v1/banks")
        | ("GET", "/api/v1/banks/{id}")
        | ("POST", "/api/v1/banks/{id}/entries")
        | ("DELETE", "/api/v1/banks/{id}/entries/{id}")
        | ("GET" | "POST", "/api/v1/banks/{id}/videos")
        | ("PUT", "/api/v1/banks/{id}/video-thresholds") => role == Some(Admin),
        ("GET", "/api/v1/helpline/league" | "/api/v1/helpline/figures") => {
            matches!(role, Some(Caseworker | Admin | Auditor))
        }
        (_, p) if p.starts_with("/api/v1/helpline/") => role == Some(Caseworker),
        _ => panic!("route {method} {path} missing from the expected matrix"),
    }
}

/// Every route × every role (and anonymous): allowed calls get past authorisation (any status
/// but 401/403), denied ones get 401 (anonymous) or 403 (a key with the wrong role).
#[tokio::test]
async fn every_route_for_every_role() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let routes = [
        ("GET", "/api/v1/categories"),
        ("GET", "/api/v1/legal-grounds"),
        ("POST", "/api/v1/notices"),
        ("GET", "/api/v1/queue"),
        ("GET", "/api/v1/cases/{id}"),
        ("POST", "/api/v1/cases/{id}/decision"),
        ("POST", "/api/v1/cases/{id}/take"),
        ("POST", "/api/v1/cases/{id}/art18"),
        ("GET", "/api/v1/cases/{id}/art18"),
        ("GET", "/api/v1/appeals"),
        ("POST", "/api/v1/cases/{id}/content"),
        ("POST", "/api/v1/transparency/submissions/requeue"),
        ("GET", "/api/v1/cases/{id}/content/{id}"),
        ("POST", "/api/v1/cases/{id}/content/{id}/legal-hold"),
        ("GET", "/api/v1/decisions/{id}"),
        ("GET", "/api/v1/decisions/{id}/statement"),
        ("POST", "/api/v1/decisions/{id}/appeals"),
        ("GET", "/api/v1/appeals/{id}"),
        ("POST", "/api/v1/appeals/{id}/decision"),
        ("POST", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts"),
        ("POST", "/api/v1/accounts/{id}/disable"),
        ("POST", "/api/v1/accounts/{id}/enable"),
        ("POST", "/api/v1/accounts/{id}/password"),
        ("POST", "/api/v1/account/password"),
        ("GET", "/api/v1/keys"),
        ("DELETE", "/api/v1/keys/{id}"),
        ("GET", "/api/v1/session"),
        ("GET", "/api/v1/outbox/dead"),
        ("POST", "/api/v1/outbox/dead/{id}/resend"),
        ("GET", "/api/v1/misuse"),
        ("GET", "/api/v1/transparency/submissions"),
        ("GET", "/api/v1/stats"),
        ("POST", "/api/v1/screen"),
        ("GET", "/api/v1/banks"),
        ("POST", "/api/v1/banks"),
        ("GET", "/api/v1/banks/{id}"),
        ("POST", "/api/v1/banks/{id}/entries"),
        ("DELETE", "/api/v1/banks/{id}/entries/{id}"),
        ("GET", "/api/v1/banks/{id}/videos"),
        ("POST", "/api/v1/banks/{id}/videos"),
        ("PUT", "/api/v1/banks/{id}/video-thresholds"),
        ("GET", "/api/v1/helpline/platforms"),
        ("POST", "/api/v1/helpline/platforms"),
        ("GET", "/api/v1/helpline/platforms/{id}/pack"),
        ("POST", "/api/v1/helpline/cases"),
        ("GET", "/api/v1/helpline/cases/{id}"),
        ("DELETE", "/api/v1/helpline/cases/{id}/contact"),
        ("POST", "/api/v1/helpline/cases/{id}/referrals"),
        ("POST", "/api/v1/helpline/cases/{id}/requests"),
        ("GET", "/api/v1/helpline/requests/{id}"),
        ("POST", "/api/v1/helpline/requests/{id}/answer"),
        ("POST", "/api/v1/helpline/requests/{id}/check"),
        ("POST", "/api/v1/helpline/requests/{id}/release"),
        ("POST", "/api/v1/helpline/sync"),
        ("GET", "/api/v1/helpline/league"),
        ("GET", "/api/v1/helpline/figures"),
        ("GET", "/api/v1/helpline/cases/{id}/evidence"),
        ("POST", "/api/v1/helpline/cases/{id}/evidence"),
        ("GET", "/api/v1/helpline/cases/{id}/police-bundle"),
        ("GET", "/api/v1/helpline/cases/{id}/hashes"),
        ("POST", "/api/v1/helpline/cases/{id}/hashes"),
        ("POST", "/api/v1/helpline/cases/{id}/hash-notices"),
        ("GET", "/api/v1/helpline/evidence/{id}"),
        ("DELETE", "/api/v1/helpline/evidence/{id}"),
        ("POST", "/api/v1/helpline/evidence/{id}/legal-hold"),
    ];
    let mut callers: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for role in Role::ALL {
        callers.push((Some(role), Some(app.key(role, role.as_str()).await)));
    }
    let mut mismatches = Vec::new();
    for (method, template) in routes {
        let path = template.replace("{id}", "00000000-0000-7000-8000-000000000000");
        for (role, key) in &callers {
            let mut req = match method {
                "GET" => app.client.get(format!("{}{path}", app.base)),
                "DELETE" => app.client.delete(format!("{}{path}", app.base)),
                "PUT" => app.client.put(format!("{}{path}", app.base)).json(&json!({})),
                _ => app.client.post(format!("{}{path}", app.base)).json(&json!({})),
            };
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let status = req.send().await.expect("request").status().as_u16();
            let allowed = expected(method, template, *role);
            // Without a session cookie the session endpoint is 401 whatever key comes with it.
            let denied = if role.is_none() || template == "/api/v1/session" { 401 } else { 403 };
            let ok = if allowed { status != 401 && status != 403 } else { status == denied };
            if !ok {
                mismatches.push(format!("{method} {template} as {role:?}: {status}, expected allowed={allowed}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `POST /api/v1/keys` takes a username and password (HTTP Basic) and nothing else; wrong or
/// unknown credentials look the same. Only admins create accounts, with field-level reasons.
#[tokio::test]
async fn personal_keys_need_the_right_password() {
    let backend = staydown_testkit::backends().await[0];
    let app = TestApp::start(backend).await;
    let key = app.staff(Role::Reviewer, "pat").await;
    let (status, queue) = app.get("/api/v1/queue", Some(&key)).await;
    assert_eq!(status, 200, "the personal key works: {queue}");
    let keys = format!("{}/api/v1/keys", app.base);
    for (user, password) in [("pat", "wrong password here"), ("nobody", "pat-correct-horse-battery")] {
        let resp = app.client.post(&keys).basic_auth(user, Some(password)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["detail"], "wrong username or password");
    }
    let resp = app.client.post(&keys).bearer_auth(&key).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401, "a key does not mint keys");
    let admin = app.key(Role::Admin, "admin").await;
    let (status, body) = app
        .post("/api/v1/accounts", &json!({"username": "pat", "role": "platform", "password": "short"}), Some(&admin))
        .await;
    assert_eq!(status, 422);
    let mut fields = crate::support::error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["password", "role"]);
    let (status, _) = app
        .post(
            "/api/v1/accounts",
            &json!({"username": "pat", "role": "reviewer", "password": "another long password"}),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 409, "usernames are unique");
}
