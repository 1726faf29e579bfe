use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use staydown_domain::roles::Role;
use staydown_server::Settings;
use staydown_server::helpline::HelplineSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{TestApp, each_backend, removal};

const PDQ: &str = "d8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";
const CANARY_NAME: &str = "Canary Jolien Brakkee-5519";

async fn open_sextortion_case(helpline: &TestApp, cw: &str) -> String {
    let (status, body) = helpline
        .post(
            "/api/v1/helpline/cases",
            &json!({
                "summary": format!("{CANARY_NAME} is threatened: pay or the photos go online"),
                "channel": "chat",
                "sextortion": true,
                "exposure": "not_yet_shared",
                "consent": true,
                "contact": {"name": CANARY_NAME},
            }),
            Some(cw),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("case id").to_owned()
}

fn hash_notice(platform: &str) -> Value {
    json!({
        "platform": platform,
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
        "legal_ground": "nl-sr-254ba",
        "explanation": "Sextortion: intimate images of a young woman, threatened to be published. Not shared yet.",
    })
}

/// Two staydown servers on loopback: the caseworker's pre-emptive hashes go to the platform as one
/// hash-only trusted-flagger notice, tracked like a removal request. Until the platform's reviewer
/// confirms it, an upload of that image passes; once confirmed, the platform's policy for
/// confirmed hash-only reports (its `victim-submitted` bank, action hold) holds it for review, and
/// the helpline's sync sees the request honoured. No URL check is made, no victim data leaves.
#[tokio::test]
async fn preemptive_hashes_filed_as_a_hash_only_notice_hold_the_upload_once_confirmed() {
    each_backend(|platform| async move {
        let helpline = TestApp::start_with(platform.backend, Settings::default()).await;
        let tf_key = platform.key(Role::TrustedFlagger, "Helpline NL").await;
        let reviewer = platform.key(Role::Reviewer, "reviewer").await;
        let uploads = platform.key(Role::Platform, "uploads").await;
        let cw = helpline.staff(Role::Caseworker, "casey").await;
        let (status, p) = helpline
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "P", "staydown_url": platform.base, "api_key": tf_key, "trusted_flagger": true}),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let platform_id = p["id"].as_str().expect("id").to_owned();
        let (_, q) = helpline
            .post("/api/v1/helpline/platforms", &json!({"name": "Q", "email": "abuse@q.example"}), Some(&cw))
            .await;
        let email_platform = q["id"].as_str().expect("id").to_owned();
        let case_id = open_sextortion_case(&helpline, &cw).await;
        let path = format!("/api/v1/helpline/cases/{case_id}/hash-notices");

        // Nothing to file before the caseworker's browser has made hashes.
        let (status, none) = helpline.post(&path, &hash_notice(&platform_id), Some(&cw)).await;
        assert_eq!(status, 422, "{none}");
        assert_eq!(crate::support::error_fields(&none), ["hashes"]);

        let (status, added) = helpline
            .post(&format!("/api/v1/helpline/cases/{case_id}/hashes"), &json!({"pdq": PDQ, "quality": 100}), Some(&cw))
            .await;
        assert_eq!(status, 201, "{added}");

        // Only a platform running staydown can use hashes; a URL does not belong in one.
        let (status, wrong) = helpline.post(&path, &hash_notice(&email_platform), Some(&cw)).await;
        assert_eq!((status, crate::support::error_fields(&wrong)), (422, vec!["platform".to_owned()]), "{wrong}");
        let mut with_url = hash_notice(&platform_id);
        with_url["url"] = json!("https://social.example/p/1");
        let (status, wrong) = helpline.post(&path, &with_url, Some(&cw)).await;
        assert_eq!((status, crate::support::error_fields(&wrong)), (422, vec!["url".to_owned()]), "{wrong}");

        let screen = json!({"pdq": PDQ, "pdq_quality": 100});
        let before = platform.post("/api/v1/screen", &screen, Some(&uploads)).await.1;
        assert_eq!(before["verdict"], "allow", "{before}");

        let (status, request) = helpline.post(&path, &hash_notice(&platform_id), Some(&cw)).await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(request["state"], "acknowledged", "filed at once: {request}");
        assert!(request["url"].is_null(), "{request}");
        assert_eq!(request["hashes"][0]["pdq"], PDQ, "{request}");
        let request_id = request["id"].as_str().expect("id").to_owned();

        // The platform has one hash-only trusted-flagger notice with the hash and nothing of the victim.
        let queue = platform.queue(&reviewer).await;
        assert_eq!(queue.len(), 1, "{queue:?}");
        let case = queue[0]["case_id"].as_str().expect("case").to_owned();
        let (_, platform_case) = platform.get(&format!("/api/v1/cases/{case}"), Some(&reviewer)).await;
        let text = platform_case.to_string();
        assert!(text.contains(PDQ) && text.contains("trusted_flagger"), "{platform_case}");
        assert!(!text.contains(CANARY_NAME) && !text.contains("Jolien"), "victim data reached the platform");

        // Filed but not yet confirmed: the platform's screening does not act on it yet.
        let pending = platform.post("/api/v1/screen", &screen, Some(&uploads)).await.1;
        assert_eq!(pending["verdict"], "allow", "{pending}");

        platform.advance(time::Duration::hours(2));
        let (status, decision) =
            platform.post(&format!("/api/v1/cases/{case}/decision"), &removal(), Some(&reviewer)).await;
        assert_eq!(status, 201, "{decision}");
        let after = platform.post("/api/v1/screen", &screen, Some(&uploads)).await.1;
        assert_eq!(after["verdict"], "hold", "{after}");
        assert_eq!(after["matches"][0]["bank"], "victim-submitted", "{after}");

        let (status, report) = helpline.post("/api/v1/helpline/sync", &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["updated"].as_u64(), report["checked"].as_u64()), (Some(1), Some(0)), "{report}");
        let (_, request) = helpline.get(&format!("/api/v1/helpline/requests/{request_id}"), Some(&cw)).await;
        assert_eq!(request["state"], "removed", "{request}");
        assert_eq!(request["platform_decision_id"], decision["id"]);
        assert!(request["url_checks"].as_array().is_none_or(Vec::is_empty), "no URL to check: {request}");
        let (_, league) = helpline.get("/api/v1/helpline/league", Some(&cw)).await;
        let row = league.as_array().expect("array").iter().find(|r| r["platform"] == "P").expect("row").clone();
        assert_eq!((row["requests"].as_u64(), row["honoured"].as_u64()), (Some(1), Some(1)), "{row}");
    })
    .await;
}

/// Reads one HTTP/1.1 message (headers, then a `Content-Length` or chunked body) from `s`.
async fn read_message(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().expect("length")));
            let complete = match length {
                Some(n) => buf.len() >= end + 4 + n,
                None if head.contains("transfer-encoding: chunked") => buf.ends_with(b"0\r\n\r\n"),
                None => true,
            };
            if complete {
                return buf;
            }
        }
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed mid-message");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Each request the stand-in forwarded: its `Idempotency-Key`, and whether the answer was a replay.
type Seen = Arc<Mutex<Vec<(Option<String>, bool)>>>;

/// A stand-in in front of a real platform: forwards each request and waits for the platform's
/// full answer, but drops the first answer on the floor (closes the connection without a byte).
/// Records each request's `Idempotency-Key` and whether the platform's answer was a replay.
struct LossyProxy {
    base: String,
    seen: Seen,
}

impl LossyProxy {
    async fn start(upstream: &str) -> LossyProxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let seen: Seen = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let request = read_message(&mut client).await;
                let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
                let key = head.lines().find_map(|l| l.strip_prefix("idempotency-key:").map(|v| v.trim().to_owned()));
                let mut platform = TcpStream::connect(&upstream).await.expect("platform");
                platform.write_all(&request).await.expect("forward");
                let answer = read_message(&mut platform).await;
                let replayed = String::from_utf8_lossy(&answer).to_ascii_lowercase().contains("idempotent-replayed:");
                let first = {
                    let mut seen = log.lock().expect("log");
                    seen.push((key, replayed));
                    seen.len() == 1
                };
                if first {
                    // The platform filed it; the helpline never hears so.
                    drop(client);
                    continue;
                }
                let text = String::from_utf8_lossy(&answer).replacen("\r\n", "\r\nconnection: close\r\n", 1);
                client.write_all(text.as_bytes()).await.expect("answer");
                client.shutdown().await.ok();
            }
        });
        LossyProxy { base, seen }
    }
}

/// Every notice the helpline files for one request carries the same `Idempotency-Key`. The
/// platform's first answer is lost after it filed the notice: the request is held (outcome
/// unknown); when the caseworker releases it, the retry gets the platform's first answer again
/// (a replay), so the platform holds exactly one notice and the helpline follows that one.
#[tokio::test]
async fn a_retry_after_a_lost_answer_files_the_notice_once() {
    each_backend(|platform| async move {
        let settings = Settings {
            helpline: HelplineSettings {
                platform_timeout: std::time::Duration::from_secs(5),
                ..HelplineSettings::default()
            },
            ..Settings::default()
        };
        let helpline = TestApp::start_with(platform.backend, settings).await;
        let tf_key = platform.key(Role::TrustedFlagger, "Helpline NL").await;
        let reviewer = platform.key(Role::Reviewer, "reviewer").await;
        let cw = helpline.staff(Role::Caseworker, "casey").await;
        let proxy = LossyProxy::start(&platform.base).await;
        let (_, p) = helpline
            .post(
                "/api/v1/helpline/platforms",
                &json!({"name": "Lossy", "staydown_url": proxy.base, "api_key": tf_key}),
                Some(&cw),
            )
            .await;
        let platform_id = p["id"].as_str().expect("id").to_owned();
        let case_id = open_sextortion_case(&helpline, &cw).await;
        let (status, request) = helpline
            .post(
                &format!("/api/v1/helpline/cases/{case_id}/requests"),
                &json!({
                    "platform": platform_id,
                    "url": "https://social.example/p/4711",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "legal_ground": "nl-sr-254ba",
                    "explanation": "An intimate image published without consent.",
                }),
                Some(&cw),
            )
            .await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(
            (request["state"].as_str(), request["send_uncertain"].as_bool()),
            (Some("drafted"), Some(true)),
            "the answer was lost: {request}"
        );
        let id = request["id"].as_str().expect("id").to_owned();
        let queue = platform.queue(&reviewer).await;
        assert_eq!(queue.len(), 1, "the platform filed it: {queue:?}");

        let (status, released) =
            helpline.post(&format!("/api/v1/helpline/requests/{id}/release"), &json!({}), Some(&cw)).await;
        assert_eq!(status, 200, "{released}");
        assert_eq!(released["state"], "acknowledged", "{released}");
        let queue = platform.queue(&reviewer).await;
        assert_eq!(queue.len(), 1, "filed once: {queue:?}");
        let (_, case) = platform
            .get(&format!("/api/v1/cases/{}", queue[0]["case_id"].as_str().expect("case")), Some(&reviewer))
            .await;
        assert_eq!(case["notices"].as_array().map(Vec::len), Some(1), "{case}");
        assert_eq!(released["platform_notice_id"], case["notices"][0]["id"], "{case}");

        let seen = proxy.seen.lock().expect("log").clone();
        let key = staydown_server::helpline::idempotency_key(&id);
        assert_eq!(seen, vec![(Some(key.clone()), false), (Some(key), true)], "same key; the second answer a replay");
    })
    .await;
}
