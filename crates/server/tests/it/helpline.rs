use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use staydown_domain::roles::Role;
use staydown_server::Settings;
use staydown_server::helpline::{HelplineSettings, UrlCheckSettings, check_url};

use crate::support::{TestApp, each_backend, removal};

const CANARY_NAME: &str = "Canary Ximena Oudejans-7431";
const CANARY_EMAIL: &str = "canary.7431@victim.example";
const CANARY_PHONE: &str = "+31 6 7431 7431";

/// Settings for a helpline whose URL checks may reach loopback servers started by the test.
pub(crate) fn helpline_settings() -> Settings {
    Settings {
        public_url: "http://helpline.test".into(),
        helpline: HelplineSettings {
            url_check: UrlCheckSettings {
                danger_allow_loopback: true,
                timeout: std::time::Duration::from_secs(2),
                connect_timeout: std::time::Duration::from_secs(2),
                ..UrlCheckSettings::default()
            },
            ..HelplineSettings::default()
        },
        ..Settings::default()
    }
}

/// A content server on loopback: `/img` answers with the status held in `status`; `/redirect`
/// points at a private address; `/big` streams more than the check's byte limit; `/slow` never
/// answers in time.
struct ContentServer {
    base: String,
    status: Arc<AtomicU16>,
}

impl ContentServer {
    async fn start() -> ContentServer {
        let status = Arc::new(AtomicU16::new(200));
        let s = status.clone();
        let app = axum::Router::new()
            .route(
                "/img",
                axum::routing::get(move || {
                    let s = s.clone();
                    async move {
                        let code = axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).expect("status");
                        (code, "image bytes")
                    }
                }),
            )
            .route(
                "/redirect",
                axum::routing::get(|| async {
                    (axum::http::StatusCode::FOUND, [(axum::http::header::LOCATION, "http://169.254.169.254/latest")])
                }),
            )
            .route("/big", axum::routing::get(|| async { vec![b'x'; 3 * 1024 * 1024] }))
            .route(
                "/slow",
                axum::routing::get(|| async {
                    // Never answers: the URL check's own timeout must end the wait.
                    std::future::pending::<()>().await;
                    "late"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        ContentServer { base, status }
    }
}

pub(crate) async fn caseworker(app: &TestApp) -> String {
    app.staff(Role::Caseworker, "casey").await
}

pub(crate) async fn open_case(app: &TestApp, cw: &str) -> String {
    let (status, body) = app
        .post(
            "/api/v1/helpline/cases",
            &json!({
                "summary": format!("{CANARY_NAME} found a deepnude of herself in a class chat"),
                "channel": "chat",
                "image_kind": "ai_generated",
                "exposure": "public",
                "minor_involved": "no",
                "municipality": "Utrecht",
                "consent": true,
                "contact": {"name": CANARY_NAME, "email": CANARY_EMAIL, "phone": CANARY_PHONE},
            }),
            Some(cw),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("case id").to_owned()
}

pub(crate) fn request_body(platform: &str, url: &str) -> Value {
    json!({
        "platform": platform,
        "url": url,
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "legal_ground": "nl-sr-254ba",
        "explanation": "An AI-generated nude image of a young woman, published without her consent.",
    })
}

pub(crate) fn league_row<'a>(league: &'a Value, platform: &str) -> &'a Value {
    league.as_array().expect("array").iter().find(|r| r["platform"] == platform).expect("platform row")
}

/// Two staydown servers on loopback: the helpline files a trusted-flagger notice with the
/// platform machine to machine, the platform's reviewer removes the content three hours later,
/// and the helpline's sync reads the decision from the tracking view — the league table shows it
/// honoured after three hours. Sending again files nothing twice.
#[tokio::test]
async fn a_request_to_a_staydown_platform_is_followed_to_its_removal() {
    each_backend(|platform| async move {
        let keyring =
            staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).expect("keys");
        let helpline =
            TestApp::start_with(platform.backend, Settings { vault: Some(keyring), ..helpline_settings() }).await;
        let content = ContentServer::start().await;
        let tf_key = platform.key(Role::TrustedFlagger, "Helpline NL").await;
        let reviewer = platform.key(Role::Reviewer, "reviewer").await;
        let cw = caseworker(&helpline).await;

        let (status, p) = helpline
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "P", "staydown_url": platform.base, "api_key": tf_key}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        assert!(p.get("api_key").is_none(), "the key is never shown: {p}");
        let platform_id = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&helpline, &cw).await;
        let url = format!("{}/img", content.base);
        let (status, request) = helpline
            .post(&format!("/api/v1/helpline/cases/{case_id}/requests"), &request_body(&platform_id, &url), Some(&cw))
            .await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(request["state"], "acknowledged", "filed at once: {request}");
        assert!(request.get("remote_token").is_none() && !request.to_string().contains("tracking_token"));
        let request_id = request["id"].as_str().expect("id").to_owned();
        let remote = request["platform_notice_id"].as_str().expect("platform notice id").to_owned();
        // The key and the tracking token are sealed at rest.
        let stored_platform = helpline.store().helpline_platform(&platform_id).await.expect("platform").expect("row");
        assert!(
            stored_platform.api_key.as_deref().is_some_and(|k| k.starts_with("sealed:v1:") && !k.contains(&tf_key))
        );
        let stored = helpline.store().helpline_request(&request_id).await.expect("request").expect("row");
        assert!(stored.remote_token.as_deref().is_some_and(|t| t.starts_with("sealed:v1:")), "{stored:?}");

        // The platform sees one trusted-flagger notice, without the victim's details.
        let (status, queue) = platform.get("/api/v1/queue", Some(&reviewer)).await;
        assert_eq!(status, 200);
        assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
        let case = queue[0]["case_id"].as_str().expect("case").to_owned();
        let (_, platform_case) = platform.get(&format!("/api/v1/cases/{case}"), Some(&reviewer)).await;
        assert!(platform_case.to_string().contains("trusted_flagger"), "{platform_case}");
        for canary in [CANARY_NAME, CANARY_EMAIL] {
            assert!(!platform_case.to_string().contains(canary), "victim data reached the platform");
        }

        // A second send of the same request files nothing.
        let again =
            staydown_server::helpline::send(&helpline.state, &request_id).await.expect("send").expect("request");
        assert_eq!(again.remote_notice_id.as_deref(), Some(remote.as_str()));
        assert_eq!(again.send_attempts, 1);
        let (_, queue) = platform.get("/api/v1/queue", Some(&reviewer)).await;
        assert_eq!(queue.as_array().map(Vec::len), Some(1));

        // Nothing decided yet: a sync changes nothing.
        let (status, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["updated"], 0, "{report}");

        platform.advance(time::Duration::hours(3));
        let (status, decision) =
            platform.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decision}");

        let (status, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["updated"], 1, "{report}");
        let (_, request) = helpline.get(&format!("/api/v1/helpline/requests/{request_id}"), Some(&cw)).await;
        assert_eq!(request["state"], "removed", "{request}");
        assert_eq!(request["platform_decision_id"], decision["id"], "{request}");
        assert!(request["answer"]["decision"]["statement"].is_object(), "the statement arrived: {request}");
        assert!(request["url_checks"].as_array().is_some_and(|c| !c.is_empty()), "checked after removal: {request}");

        let (status, league) = helpline.get("/api/v1/helpline/league", Some(&cw)).await;
        assert_eq!(status, 200, "{league}");
        let row = league_row(&league, "P");
        assert_eq!((row["requests"].as_u64(), row["honoured"].as_u64()), (Some(1), Some(1)), "{row}");
        assert_eq!((row["refused"].as_u64(), row["unanswered"].as_u64()), (Some(0), Some(0)), "{row}");
        assert_eq!(row["trusted_flagger"], true);
        let hours = row["median_hours_to_removal"].as_f64().expect("median hours");
        assert!((hours - 3.0).abs() < 0.01, "three hours to removal, got {hours}");

        // A later sync neither re-files nor changes the answer.
        let (_, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!((report["sent"].as_u64(), report["updated"].as_u64()), (Some(0), Some(0)), "{report}");
    })
    .await;
}

/// A stand-in platform on `addr`: `mode` 0 files (201 with a receipt), 1 hangs past the
/// helpline's timeout after reading the notice (outcome unknown). Counts the notices it read.
fn standin_platform(listener: tokio::net::TcpListener, mode: Arc<AtomicU16>, filed: Arc<AtomicU16>) {
    let app = axum::Router::new().route(
        "/api/v1/notices",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (mode, filed) = (mode.clone(), filed.clone());
            async move {
                let n = filed.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(serde_json::from_slice::<Value>(&body).is_ok_and(|b| b["good_faith"] == true));
                if mode.load(Ordering::SeqCst) == 1 {
                    // Reads the notice, then never answers: the helpline's send must time out.
                    std::future::pending::<()>().await;
                }
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(json!({"id": format!("remote-{n}"), "tracking_token": "t0ken", "received_at": "2026-11-30T08:00:00Z"})),
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
}

/// A platform that is down gets the request on a later sync; a send whose outcome is unknown
/// (the platform read it, then the answer timed out) is held, never re-sent by the sync, and
/// sent again only when the caseworker releases it.
#[tokio::test]
async fn sends_are_retried_when_safe_and_held_when_the_outcome_is_unknown() {
    each_backend(|first| async move {
        let settings = Settings {
            helpline: HelplineSettings {
                platform_timeout: std::time::Duration::from_millis(500),
                ..HelplineSettings::default()
            },
            ..Settings::default()
        };
        let helpline = TestApp::start_with(first.backend, settings).await;
        let cw = caseworker(&helpline).await;
        // Reserve a port, then free it: nothing listens there yet.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let (_, p) = helpline
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "Flaky", "staydown_url": format!("http://{addr}"), "api_key": "sd_x_y"}),
                Some(&cw),
            )
            .await;
        let platform_id = p["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&helpline, &cw).await;
        let path = format!("/api/v1/helpline/cases/{case_id}/requests");
        let (status, request) =
            helpline.post(&path, &request_body(&platform_id, "https://flaky.example/1"), Some(&cw)).await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(request["state"], "drafted");
        assert_eq!(request["send_uncertain"], false, "a refused connection is safe to retry");
        assert!(request["last_error"].as_str().is_some_and(|e| e.contains("connect")), "{request}");
        let id = request["id"].as_str().expect("id").to_owned();

        let (mode, filed) = (Arc::new(AtomicU16::new(0)), Arc::new(AtomicU16::new(0)));
        standin_platform(tokio::net::TcpListener::bind(addr).await.expect("rebind"), mode.clone(), filed.clone());
        let (_, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["sent"], 1, "{report}");
        let (_, r) = helpline.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(
            (r["state"].as_str(), r["platform_notice_id"].as_str()),
            (Some("acknowledged"), Some("remote-1")),
            "{r}"
        );
        assert_eq!(r["send_attempts"], 2);

        mode.store(1, Ordering::SeqCst);
        let (status, held) =
            helpline.post(&path, &request_body(&platform_id, "https://flaky.example/2"), Some(&cw)).await;
        assert_eq!(status, 201, "{held}");
        assert_eq!((held["state"].as_str(), held["send_uncertain"].as_bool()), (Some("drafted"), Some(true)), "{held}");
        assert_eq!(filed.load(Ordering::SeqCst), 2, "the platform read it");
        let held_id = held["id"].as_str().expect("id").to_owned();
        let (_, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["sent"], 0, "{report}");
        assert_eq!(filed.load(Ordering::SeqCst), 2, "the sync does not file it again");

        mode.store(0, Ordering::SeqCst);
        let (status, released) =
            helpline.post(&format!("/api/v1/helpline/requests/{held_id}/release"), &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{released}");
        assert_eq!(released["state"], "acknowledged", "{released}");
        assert_eq!(filed.load(Ordering::SeqCst), 3);
        let (status, _) =
            helpline.post(&format!("/api/v1/helpline/requests/{id}/release"), &json!({}), Some(&cw)).await;
        assert_eq!(status, 409, "only held requests can be released");

        // A send interrupted by a stop (its claim ran out, no outcome recorded) is held too.
        mode.store(1, Ordering::SeqCst);
        let (_, third) = helpline.post(&path, &request_body(&platform_id, "https://flaky.example/3"), Some(&cw)).await;
        let third_id = third["id"].as_str().expect("id").to_owned();
        helpline
            .store()
            .danger_execute(&format!(
                "UPDATE helpline_requests SET send_uncertain = 0, last_error = NULL, claimed_until = 1 WHERE id = '{third_id}'"
            ))
            .await
            .expect("simulate an interrupted send");
        mode.store(0, Ordering::SeqCst);
        let before = filed.load(Ordering::SeqCst);
        let (_, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["sent"], 0, "{report}");
        assert_eq!(filed.load(Ordering::SeqCst), before, "not filed again");
        let (_, r) = helpline.get(&format!("/api/v1/helpline/requests/{third_id}"), Some(&cw)).await;
        assert_eq!((r["state"].as_str(), r["send_uncertain"].as_bool()), (Some("drafted"), Some(true)), "{r}");

        let (status, dup) = helpline
            .post("/api/v1/helpline/platforms", &json!({"name": "Flaky", "email": "x@y.example"}), Some(&cw))
            .await;
        assert_eq!(status, 422, "{dup}");
    })
    .await;
}

/// An e-mail platform: the request goes out through the outbox (captured), a reminder follows
/// when no answer comes within 24 hours, and the caseworker records the removal; the league table
/// counts it with the recorded time.
#[tokio::test]
async fn an_email_platform_gets_the_request_a_reminder_and_a_recorded_answer() {
    each_backend(|app| async move {
        let cw = caseworker(&app).await;
        let (status, q) = app
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "Q", "email": "abuse@q.example", "language": "nl"}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{q}");
        assert_eq!(q["channel"], "email");
        let case_id = open_case(&app, &cw).await;
        let (status, request) = app
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &request_body(q["id"].as_str().expect("id"), "https://q.example/p/1"),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(request["state"], "sent");
        let id = request["id"].as_str().expect("id").to_owned();
        let sent_at = crate::support::parse_time(&request["sent_at"]);
        app.deliver().await;
        {
            let sent = app.sent.lock().expect("lock");
            let mail: Vec<_> = sent.iter().filter(|m| m.to == "abuse@q.example").collect();
            assert_eq!(mail.len(), 1, "{sent:?}");
            assert!(mail[0].subject.starts_with("Verzoek tot verwijdering"), "{}", mail[0].subject);
            for part in ["https://q.example/p/1", "art. 254ba Wetboek van Strafrecht", "te goeder trouw", id.as_str()] {
                assert!(mail[0].body.contains(part), "{part} missing: {}", mail[0].body);
            }
            for canary in [CANARY_NAME, CANARY_EMAIL, CANARY_PHONE] {
                assert!(!mail[0].body.contains(canary), "victim data in the request e-mail");
            }
        }

        app.advance(time::Duration::hours(25));
        let (_, report) = app.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["unanswered"], 1, "{report}");
        let (_, request) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!((request["state"].as_str(), request["overdue"].as_bool()), (Some("no_answer"), Some(true)));
        app.deliver().await;
        assert!(
            app.sent
                .lock()
                .expect("lock")
                .iter()
                .any(|m| m.to == "abuse@q.example" && m.subject.starts_with("Herinnering")),
            "a reminder went out"
        );
        let (_, league) = app.get("/api/v1/helpline/league", Some(&cw)).await;
        assert_eq!(league_row(&league, "Q")["unanswered"], 1, "{league}");

        let removed_at = sent_at + time::Duration::hours(20);
        let at = removed_at.format(&time::format_description::well_known::Rfc3339).expect("format");
        let (status, bad) = app
            .post(&format!("/api/v1/helpline/requests/{id}/answer"), &json!({"state": "gone", "at": "soon"}), Some(&cw))
            .await;
        assert_eq!(status, 422);
        let mut fields = crate::support::error_fields(&bad);
        fields.sort();
        assert_eq!(fields, ["at", "state"]);
        let (status, answered) = app
            .post(
                &format!("/api/v1/helpline/requests/{id}/answer"),
                &json!({"state": "removed", "at": at, "note": "Q wrote back: removed."}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 200, "{answered}");
        assert_eq!(answered["state"], "removed");
        let (status, _) =
            app.post(&format!("/api/v1/helpline/requests/{id}/answer"), &json!({"state": "refused"}), Some(&cw)).await;
        assert_eq!(status, 409, "a removal is final");
        let (_, league) = app.get("/api/v1/helpline/league", Some(&cw)).await;
        let row = league_row(&league, "Q");
        assert_eq!((row["honoured"].as_u64(), row["unanswered"].as_u64()), (Some(1), Some(0)), "{row}");
        let hours = row["median_hours_to_removal"].as_f64().expect("hours");
        assert!((hours - 20.0).abs() < 0.01, "{hours}");
        assert_eq!(row["trusted_flagger"], false);
    })
    .await;
}

/// URL checks against a local server that serves the content, then removes it, then serves it
/// again: present → gone (offline time recorded) → present (came back, audited). Redirects to a
/// private address, oversized bodies, slow servers and loopback without the setting are bounded.
#[tokio::test]
async fn url_checks_see_content_go_and_come_back() {
    each_backend(|_unused| async move {
        let app = TestApp::start_with(_unused.backend, helpline_settings()).await;
        let content = ContentServer::start().await;
        let cw = caseworker(&app).await;
        let (_, p) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "R", "channel": "letter"}), Some(&cw)).await;
        let case_id = open_case(&app, &cw).await;
        let (status, request) = app
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &request_body(p["id"].as_str().expect("id"), &format!("{}/img", content.base)),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        let id = request["id"].as_str().expect("id").to_owned();
        let (_, report) = app.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["checked"], 1, "the first check runs at once: {report}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["url_state"], "present", "{r}");
        assert!(r["next_check_at"].is_string(), "re-checked later: {r}");

        content.status.store(404, Ordering::SeqCst);
        app.advance(time::Duration::hours(1));
        let (_, check) = app.post(&format!("/api/v1/helpline/requests/{id}/check"), &json!({}), Some(&cw)).await;
        assert_eq!((check["state"].as_str(), check["http_status"].as_u64()), (Some("gone"), Some(404)), "{check}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        let offline_at = r["offline_at"].as_str().expect("offline time").to_owned();

        content.status.store(503, Ordering::SeqCst);
        let (_, check) = app.post(&format!("/api/v1/helpline/requests/{id}/check"), &json!({}), Some(&cw)).await;
        assert_eq!(check["state"], "unknown", "a 503 says nothing: {check}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!(r["offline_at"].as_str(), Some(offline_at.as_str()), "unknown keeps the offline time");

        // Nothing due until the gone re-check interval has passed.
        let (_, report) = app.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["checked"], 0, "{report}");
        content.status.store(200, Ordering::SeqCst);
        app.advance(time::Duration::days(8));
        let (_, report) = app.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(report["checked"], 1, "{report}");
        let (_, r) = app.get(&format!("/api/v1/helpline/requests/{id}"), Some(&cw)).await;
        assert_eq!((r["url_state"].as_str(), r["offline_at"].as_str()), (Some("present"), None), "{r}");
        let states: Vec<&str> =
            r["url_checks"].as_array().expect("checks").iter().filter_map(|c| c["state"].as_str()).collect();
        assert_eq!(states, ["present", "gone", "unknown", "present"]);
        let audit = app.store().audit_for(&format!("helpline_request:{id}")).await.expect("audit");
        assert!(audit.iter().any(|e| e.action == "helpline.url_back_online"), "coming back is audited");

        let settings = helpline_settings().helpline.url_check;
        let redirect = check_url(&settings, &format!("{}/redirect", content.base)).await;
        assert_eq!(redirect.state, "unknown");
        assert!(redirect.detail.contains("private"), "{redirect:?}");
        let big = check_url(&settings, &format!("{}/big", content.base)).await;
        assert_eq!(big.state, "present", "{big:?}");
        let slow = check_url(
            &UrlCheckSettings { timeout: std::time::Duration::from_millis(300), ..settings.clone() },
            &format!("{}/slow", content.base),
        )
        .await;
        assert_eq!((slow.state, slow.detail.as_str()), ("unknown", "timeout"));
        let refused = check_url(&UrlCheckSettings::default(), &format!("{}/img", content.base)).await;
        assert_eq!(refused.state, "unknown", "loopback is refused by default: {refused:?}");
        assert!(refused.detail.contains("private, loopback"), "{refused:?}");
    })
    .await;
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).expect("entry");
            let name = f.name().expect("name").into_owned();
            let mut data = Vec::new();
            f.read_to_end(&mut data).expect("read");
            (name, data)
        })
        .collect()
}

async fn get_bytes(app: &TestApp, path: &str, key: &str) -> (u16, Vec<u8>) {
    let resp = app.client.get(format!("{}{path}", app.base)).bearer_auth(key).send().await.expect("request");
    (resp.status().as_u16(), resp.bytes().await.expect("body").to_vec())
}

/// The escalation pack: every file's SHA-256 matches the manifest, every audit entry's hash
/// recomputes, and consecutive entries chain. By default no victim data is in the pack, the
/// league table, the figures or the audit details (canary); chosen, it is there.
#[tokio::test]
async fn escalation_pack_verifies_and_carries_no_victim_data_by_default() {
    each_backend(|app| async move {
        let cw = caseworker(&app).await;
        let (_, q) =
            app.post("/api/v1/helpline/platforms", &json!({"name": "Q", "email": "abuse@q.example"}), Some(&cw)).await;
        let platform_id = q["id"].as_str().expect("id").to_owned();
        let case_id = open_case(&app, &cw).await;
        let (status, _) = app
            .post(&format!("/api/v1/helpline/cases/{case_id}/referrals"), &json!({"kind": "police"}), Some(&cw))
            .await;
        assert_eq!(status, 201);
        for n in 0..2 {
            let (status, r) = app
                .post(
                    &format!("/api/v1/helpline/cases/{case_id}/requests"),
                    &request_body(&platform_id, &format!("https://q.example/p/{n}")),
                    Some(&cw),
                )
                .await;
            assert_eq!(status, 201, "{r}");
            if n == 0 {
                let id = r["id"].as_str().expect("id");
                let (status, _) = app
                    .post(&format!("/api/v1/helpline/requests/{id}/answer"), &json!({"state": "refused"}), Some(&cw))
                    .await;
                assert_eq!(status, 200);
            }
        }
        app.deliver().await;

        let (status, zip_bytes) = get_bytes(&app, &format!("/api/v1/helpline/platforms/{platform_id}/pack"), &cw).await;
        assert_eq!(status, 200);
        let files = unzip(&zip_bytes);
        let manifest: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").expect("manifest").1)
                .expect("json");
        assert_eq!(manifest["requests"], 2);
        assert_eq!(manifest["victim_details"], false);
        let listed = manifest["files"].as_array().expect("files");
        assert_eq!(listed.len(), files.len() - 1, "every file but the manifest is listed");
        for entry in listed {
            let name = entry["name"].as_str().expect("name");
            let (_, data) = files.iter().find(|(n, _)| n == name).expect("listed file present");
            assert_eq!(entry["sha256"].as_str(), Some(hex::encode(Sha256::digest(data)).as_str()), "{name}");
        }
        let audit: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "audit.json").expect("audit").1).expect("json");
        let entries = audit["entries"].as_array().expect("entries");
        assert!(entries.len() >= 5, "drafted, sent and answered entries: {}", entries.len());
        let mut previous: Option<(i64, String)> = None;
        for e in entries {
            let s = |k: &str| e[k].as_str().expect(k).to_owned();
            let hash = staydown_domain::audit::entry_hash(
                &s("prev_hash"),
                e["seq"].as_i64().expect("seq"),
                e["at_ms"].as_i64().expect("at"),
                &s("actor"),
                &s("action"),
                &s("subject"),
                &s("detail"),
            );
            assert_eq!(hash, s("hash"), "entry {} recomputes", e["seq"]);
            if let Some((seq, h)) = &previous
                && *seq + 1 == e["seq"].as_i64().expect("seq")
            {
                assert_eq!(&s("prev_hash"), h, "consecutive entries chain");
            }
            previous = Some((e["seq"].as_i64().expect("seq"), s("hash")));
        }
        let verify = app.store().verify_audit().await.expect("verify");
        assert!(verify.broken.is_none());
        assert!(audit["head"]["seq"].as_i64().expect("head") <= verify.entries);

        // Canary: nothing of the victim in the pack, the league table, the figures or audit details.
        let mut exported: Vec<(String, Vec<u8>)> = files.clone();
        let (_, league) = app.get("/api/v1/helpline/league", Some(&cw)).await;
        let (status, figures) = app.get("/api/v1/helpline/figures", Some(&cw)).await;
        assert_eq!(status, 200, "{figures}");
        assert_eq!(figures["cases"], 1);
        assert_eq!(figures["referrals"]["police"], 1);
        assert_eq!(figures["by_municipality"]["Utrecht"], 1);
        exported.push(("league".into(), league.to_string().into_bytes()));
        exported.push(("figures".into(), figures.to_string().into_bytes()));
        for subject in [format!("helpline_case:{case_id}"), format!("helpline_platform:{platform_id}")] {
            let entries = app.store().audit_for(&subject).await.expect("audit");
            exported.push((subject, format!("{entries:?}").into_bytes()));
        }
        for mail in app.sent.lock().expect("lock").iter() {
            exported.push((format!("mail to {}", mail.to), format!("{} {}", mail.subject, mail.body).into_bytes()));
        }
        for (name, data) in &exported {
            let text = String::from_utf8_lossy(data);
            for canary in [CANARY_NAME, CANARY_EMAIL, CANARY_PHONE, "Oudejans"] {
                assert!(!text.contains(canary), "victim data `{canary}` in {name}");
            }
        }

        // Chosen: the details are there (the canary check above can fail), and the view is audited.
        let (status, with) =
            get_bytes(&app, &format!("/api/v1/helpline/platforms/{platform_id}/pack?victim_details=true"), &cw).await;
        assert_eq!(status, 200);
        let files = unzip(&with);
        let all: String = files.iter().map(|(_, d)| String::from_utf8_lossy(d).into_owned()).collect();
        assert!(all.contains(CANARY_EMAIL) && all.contains(CANARY_NAME));
        let case_audit = app.store().audit_for(&format!("helpline_case:{case_id}")).await.expect("audit");
        assert!(case_audit.iter().any(|e| e.action == "helpline.contact_viewed"));

        // Erasure keeps the figures and the chain, and the details are gone.
        let status = app.delete(&format!("/api/v1/helpline/cases/{case_id}/contact"), Some(&cw)).await;
        assert_eq!(status, 204);
        let (_, case) = app.get(&format!("/api/v1/helpline/cases/{case_id}?contact=true"), Some(&cw)).await;
        assert!(case["contact"].is_null() && !case.to_string().contains(CANARY_NAME), "{case}");
        assert!(app.store().verify_audit().await.expect("verify").broken.is_none());
        let (_, figures) = app.get("/api/v1/helpline/figures", Some(&cw)).await;
        assert_eq!(figures["cases"], 1);
    })
    .await;
}

/// Evidence with chain of custody: a file stored for a case is sealed at rest with its SHA-256
/// taken at intake; each view and the police bundle are audit entries of that file; the bundle's
/// manifest matches its files; a legal hold refuses erasure; erasure keeps the custody log and the
/// audit chain whole.
#[tokio::test]
async fn evidence_is_sealed_audited_bundled_for_the_police_and_erasable() {
    each_backend(|first| async move {
        let keyring =
            staydown_vault::Keyring::parse(&format!("k1 {}", staydown_vault::generate_key_base64())).expect("keys");
        let app = TestApp::start_with(first.backend, Settings { vault: Some(keyring), ..helpline_settings() }).await;
        let cw = caseworker(&app).await;
        let case_id = open_case(&app, &cw).await;
        let screenshot = b"\x89PNG screenshot of the post, with the victim's face".to_vec();
        let resp = app
            .client
            .post(format!("{}/api/v1/helpline/cases/{case_id}/evidence?kind=screenshot", app.base))
            .bearer_auth(&cw)
            .header("content-type", "image/png")
            .body(screenshot.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 201);
        let stored: Value = resp.json().await.expect("json");
        let blob = stored["id"].as_str().expect("id").to_owned();
        assert_eq!(stored["sha256"].as_str(), Some(hex::encode(Sha256::digest(&screenshot)).as_str()));
        // Sealed at rest: the plaintext is nowhere in the database file (SQLite).
        if first.backend == staydown_testkit::Backend::Sqlite {
            let path = app.db_url().trim_start_matches("sqlite://").split('?').next().expect("path").to_owned();
            let mut raw = std::fs::read(&path).unwrap_or_default();
            raw.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            assert!(!raw.windows(20).any(|w| w == &screenshot[..20]), "plaintext evidence in the database file");
        }

        let (status, bytes) = get_bytes(&app, &format!("/api/v1/helpline/evidence/{blob}"), &cw).await;
        assert_eq!((status, bytes.as_slice()), (200, screenshot.as_slice()));
        let (status, bundle) = get_bytes(&app, &format!("/api/v1/helpline/cases/{case_id}/police-bundle"), &cw).await;
        assert_eq!(status, 200);
        let files = unzip(&bundle);
        let manifest: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").expect("manifest").1)
                .expect("json");
        for entry in manifest["files"].as_array().expect("files") {
            let (_, data) = files.iter().find(|(n, _)| entry["name"] == n.as_str()).expect("listed file");
            assert_eq!(entry["sha256"].as_str(), Some(hex::encode(Sha256::digest(data)).as_str()));
            if entry.get("sha256_at_intake").is_some() {
                assert_eq!(entry["sha256_at_intake"], entry["sha256"], "unchanged since intake");
            }
        }
        assert!(files.iter().any(|(_, d)| d == &screenshot), "the file is in the bundle");
        let custody = app.store().blob_custody(&blob).await.expect("custody");
        let purposes: Vec<&str> = custody.iter().map(|e| e.detail.as_str()).collect();
        assert!(purposes.iter().any(|d| d.contains("\"view\"")), "{purposes:?}");
        assert!(purposes.iter().any(|d| d.contains("export:police")), "{purposes:?}");

        let (status, held) = app
            .post(
                &format!("/api/v1/helpline/evidence/{blob}/legal-hold"),
                &json!({"hold": true, "reason": "police report"}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 200, "{held}");
        assert_eq!(held["legal_hold"], true);
        assert_eq!(
            app.delete(&format!("/api/v1/helpline/evidence/{blob}"), Some(&cw)).await,
            409,
            "held evidence stays"
        );
        app.post(&format!("/api/v1/helpline/evidence/{blob}/legal-hold"), &json!({"hold": false}), Some(&cw)).await;
        assert_eq!(app.delete(&format!("/api/v1/helpline/evidence/{blob}"), Some(&cw)).await, 204);
        let (status, _) = get_bytes(&app, &format!("/api/v1/helpline/evidence/{blob}"), &cw).await;
        assert_eq!(status, 409, "erased bytes cannot be opened");
        let (_, list) = app.get(&format!("/api/v1/helpline/cases/{case_id}/evidence"), Some(&cw)).await;
        assert!(list[0]["erased_at"].is_string(), "{list}");
        assert!(app.store().blob_custody(&blob).await.expect("custody").len() > custody.len());
        assert!(app.store().verify_audit().await.expect("verify").broken.is_none());
    })
    .await;
}

/// Pre-emptive hashes for a sextortion case go to the helpline's own bank (provenance
/// `helpline`), referenced by the case id only; bad hex is a field error.
#[tokio::test]
async fn preemptive_hashes_are_kept_in_the_helpline_bank() {
    each_backend(|app| async move {
        let cw = caseworker(&app).await;
        let case_id = open_case(&app, &cw).await;
        let pdq = "f".repeat(64);
        let (status, added) = app
            .post(&format!("/api/v1/helpline/cases/{case_id}/hashes"), &json!({"pdq": pdq, "quality": 90}), Some(&cw))
            .await;
        assert_eq!(status, 201, "{added}");
        let (status, bad) =
            app.post(&format!("/api/v1/helpline/cases/{case_id}/hashes"), &json!({"sha256": "xyz"}), Some(&cw)).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(crate::support::error_fields(&bad), ["sha256"]);
        let (_, listed) = app.get(&format!("/api/v1/helpline/cases/{case_id}/hashes"), Some(&cw)).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        let bank = app.store().bank("helpline-preemptive").await.expect("bank").expect("created");
        assert_eq!(bank.provenance.as_str(), "helpline");
        let entries = app.store().bank_entries("helpline-preemptive", i64::MIN, 10).await.expect("entries");
        assert_eq!(entries[0].pdq.as_deref(), Some(pdq.as_str()));
        assert_eq!(entries[0].reason.as_deref(), Some(format!("helpline_case:{case_id}").as_str()));
        assert!(entries[0].note.is_none(), "no free text in the bank");
    })
    .await;
}
