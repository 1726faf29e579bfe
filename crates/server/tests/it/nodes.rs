//! Several nodes on one PostgreSQL (issue 16 goal 4): API, screening and worker roles in separate
//! servers, each with its own connection pool, as `staydown serve --role …` runs them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use staydown_domain::policy::Policy;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_server::mail::SentMail;
use staydown_server::nodes::Roles;
use staydown_server::{AppState, Mailer, Settings, system_clock};
use staydown_store::Store;
use staydown_testkit::{Backend, TestDatabase, fresh_database};

use crate::support::notice;

struct Node {
    base: String,
    state: AppState,
    sent: Option<SentMail>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts `staydown_server::serve` — the path `staydown serve` takes — with `roles` on its own
/// pool and port. Workers get an in-memory mailer; others none.
async fn node(db: &TestDatabase, roles: Roles, settings: Settings) -> Node {
    let store = Store::connect(&db.url).await.expect("connect");
    let (mailer, sent) = if roles.worker {
        let (mailer, sent, _) = Mailer::memory();
        (mailer, Some(sent))
    } else {
        (Mailer::None, None)
    };
    let settings = Settings { roles, ..settings };
    let state = AppState::new(store, Policy::default(), settings, mailer, system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let task = tokio::spawn(staydown_server::serve(listener, state.clone(), std::future::pending()));
    Node { base: format!("http://{addr}"), state, sent, task }
}

fn roles(list: &str) -> Roles {
    Roles::parse(&[list]).expect("roles")
}

async fn call(method: reqwest::Method, url: String, key: &str, body: Option<&Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(body);
    }
    let response = req.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn screen_verdict(node: &Node, key: &str, md5: &str) -> String {
    let (status, answer) =
        call(reqwest::Method::POST, format!("{}/api/v1/screen", node.base), key, Some(&json!({"md5": md5}))).await;
    assert_eq!(status, 200, "{answer}");
    answer["verdict"].as_str().unwrap_or_default().to_owned()
}

/// Screens on every node until each answers `verdict` or `limit` has passed since `since`; returns
/// how long each took (polling as fast as the nodes answer, no sleep).
async fn until_verdict(nodes: &[&Node], key: &str, md5: &str, verdict: &str, since: Instant, limit: Duration) {
    for node in nodes {
        loop {
            if screen_verdict(node, key, md5).await == verdict {
                eprintln!("{} answered {verdict} {:?} after the API's answer", node.base, since.elapsed());
                break;
            }
            assert!(since.elapsed() < limit, "{} still not {verdict} after {limit:?}", node.base);
            tokio::task::yield_now().await;
        }
    }
    assert!(since.elapsed() < limit, "took {:?}, more than {limit:?}", since.elapsed());
}

#[tokio::test]
async fn two_screeners_an_api_node_and_two_workers_share_one_postgres() {
    if !staydown_testkit::backends().await.contains(&Backend::Postgres) {
        return;
    }
    let db = fresh_database(Backend::Postgres).await;
    let base = Settings {
        public_url: "http://staydown.test".into(),
        public_notices_per_minute: 10_000,
        public_notice_burst: 10_000,
        ..Settings::default()
    };
    let api = node(&db, roles("api"), base.clone()).await;
    let key = |role: Role, name: &'static str| {
        let store = api.state.store();
        async move {
            let (id, key) = staydown_server::auth::generate_api_key();
            store.create_api_key(&id, name, role, &secret_digest(&key), time::OffsetDateTime::now_utc()).await.unwrap();
            key
        }
    };
    let admin = key(Role::Admin, "Admin").await;
    let platform = key(Role::Platform, "Uploads").await;
    let screener_a = node(&db, roles("screen"), base.clone()).await;
    let screener_b = node(&db, roles("screen"), base.clone()).await;
    let worker_a = node(&db, roles("worker"), base.clone()).await;
    let worker_b = node(&db, roles("worker"), base.clone()).await;

    // Each node answers its own routes and a clear 421 problem for the others'.
    let md5 = "5e".repeat(16);
    let (status, problem) =
        call(reqwest::Method::POST, format!("{}/api/v1/screen", api.base), &platform, Some(&json!({"md5": md5}))).await;
    assert_eq!((status, problem["type"].as_str()), (421, Some("/problems/wrong-node")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("screen role"), "{problem}");
    let (status, problem) = call(
        reqwest::Method::POST,
        format!("{}/api/v1/notices", screener_a.base),
        &admin,
        Some(&notice("https://x.example/1")),
    )
    .await;
    assert_eq!((status, problem["type"].as_str()), (421, Some("/problems/wrong-node")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("api role"), "{problem}");
    let (status, _) = call(reqwest::Method::GET, format!("{}/api/v1/banks", worker_a.base), &admin, None).await;
    assert_eq!(status, 421);
    for n in [&api, &screener_a, &screener_b, &worker_a, &worker_b] {
        let (status, health) = call(reqwest::Method::GET, format!("{}/readyz", n.base), &admin, None).await;
        assert_eq!((status, health["database"].as_str()), (200, Some("ok")), "{}", n.base);
    }
    assert!(!api.state.banks().is_loaded(), "an API node holds no index");
    assert!(!worker_a.state.banks().is_loaded(), "a worker holds no index");

    // A bank entry added through the API node blocks on both screeners within 1 s.
    assert_eq!(screen_verdict(&screener_a, &platform, &md5).await, "allow");
    assert_eq!(screen_verdict(&screener_b, &platform, &md5).await, "allow");
    let (status, entry) = call(
        reqwest::Method::POST,
        format!("{}/api/v1/banks/confirmed/entries", api.base),
        &admin,
        Some(&json!({"md5": md5})),
    )
    .await;
    assert_eq!(status, 201, "{entry}");
    let added = Instant::now();
    until_verdict(&[&screener_a, &screener_b], &platform, &md5, "block", added, Duration::from_secs(1)).await;

    // Removing it reaches both within 1 s too.
    let entry_url = format!("{}/api/v1/banks/confirmed/entries/{}", api.base, entry["id"].as_str().unwrap());
    assert_eq!(call(reqwest::Method::DELETE, entry_url, &admin, None).await.0, 204);
    let removed = Instant::now();
    until_verdict(&[&screener_a, &screener_b], &platform, &md5, "allow", removed, Duration::from_secs(1)).await;

    // A killed screener's peer keeps answering, and learns new entries on its own.
    screener_a.task.abort();
    let _ = screener_a.task.await;
    assert!(
        reqwest::Client::new().get(format!("{}/livez", screener_a.base)).send().await.is_err(),
        "the killed screener no longer answers"
    );
    let md5_2 = "6f".repeat(16);
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/api/v1/banks/confirmed/entries", api.base),
        &admin,
        Some(&json!({"md5": md5_2})),
    )
    .await;
    assert_eq!(status, 201);
    until_verdict(&[&screener_b], &platform, &md5_2, "block", Instant::now(), Duration::from_secs(1)).await;

    // Two workers, N confirmations of receipt: each delivered exactly once.
    const N: usize = 40;
    let mut ids = Vec::new();
    for i in 0..N {
        let mut body = notice(&format!("https://photos.example/p/{i}"));
        body["notifier"]["email"] = format!("person{i}@example.org").into();
        let (status, filed) =
            call(reqwest::Method::POST, format!("{}/api/v1/notices", api.base), &admin, Some(&body)).await;
        assert_eq!(status, 201, "{filed}");
        ids.push(format!("notice.received:{}", filed["id"].as_str().unwrap()));
    }
    let store = api.state.store();
    let started = Instant::now();
    loop {
        let delivered =
            store.outbox_items("notice.received").await.unwrap().iter().filter(|i| i.delivered_at.is_some()).count();
        if delivered == N {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{delivered} of {N} delivered after a minute");
        tokio::task::yield_now().await;
    }
    let sent_by = |n: &Node| -> Vec<String> {
        n.sent.as_ref().unwrap().lock().unwrap().iter().map(|e| e.message_id.clone()).collect()
    };
    let (a, b) = (sent_by(&worker_a), sent_by(&worker_b));
    eprintln!("worker A sent {}, worker B sent {}", a.len(), b.len());
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected, "every confirmation sent exactly once, by one of the two workers");
    for item in store.outbox_items("notice.received").await.unwrap() {
        assert_eq!(item.attempts, 1, "{} was claimed more than once", item.id);
    }
    assert!(api.sent.is_none() && screener_b.sent.is_none());
    for n in [api, screener_b, worker_a, worker_b] {
        n.task.abort();
    }
}

/// Every entry's matches as a sorted list, for comparing two indexes.
fn matches_of(
    index: &staydown_server::screening::BankIndex,
    queries: &[staydown_server::screening::Query],
) -> Vec<String> {
    let mut out: Vec<String> = queries
        .iter()
        .flat_map(|q| index.search(q))
        .map(|f| format!("{} {} {} {:?}", f.bank, f.entry_id, f.hash.as_str(), f.distance))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_index_snapshot_is_checked_against_the_change_log_and_caught_up() {
    use staydown_server::screening::snapshot::Loaded;
    use staydown_server::screening::{BankIndex, Query};

    crate::support::each_backend(|app| async move {
        let admin = app.key(Role::Admin, "Admin").await;
        let pdq = |b: u8| format!("{b:02x}").repeat(32);
        let add = |body: Value| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let (status, e) = app.post("/api/v1/banks/confirmed/entries", &body, Some(&admin)).await;
                assert_eq!(status, 201, "{e}");
                e["id"].as_str().unwrap().to_owned()
            }
        };
        let removed_later = add(json!({"md5": "a1".repeat(16)})).await;
        add(json!({"pdq": pdq(0x5a), "quality": 90, "sha256": "b2".repeat(32)})).await;
        let (status, _) = app
            .post(
                "/api/v1/banks",
                &json!({"name": "external", "action": "hold", "threshold": 10, "provenance": "external_list"}),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 201);
        let (status, _) =
            app.post("/api/v1/banks/external/entries", &json!({"pdq": pdq(0x3c), "quality": 70}), Some(&admin)).await;
        assert_eq!(status, 201);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.snapshot");
        let (head, entries) = app.state.banks().write_snapshot(app.store(), &path).await.unwrap();
        assert_eq!((head, entries), (app.state.banks().applied(), 3));

        // Changes after the snapshot: one removal, one addition.
        assert_eq!(app.delete(&format!("/api/v1/banks/confirmed/entries/{removed_later}"), Some(&admin)).await, 204);
        add(json!({"md5": "c3".repeat(16)})).await;

        let queries = [
            Query { md5: Some([0xa1; 16]), ..Query::default() },
            Query { md5: Some([0xc3; 16]), ..Query::default() },
            Query { sha256: Some([0xb2; 32]), ..Query::default() },
            // Within both banks' thresholds of the 0x5a… hash (4 bits flipped), and of the 0x3c… one.
            Query {
                pdq: Some({
                    let mut h = [0x5a; 32];
                    h[0] ^= 0x0f;
                    h
                }),
                ..Query::default()
            },
            Query { pdq: Some([0x3c; 32]), ..Query::default() },
        ];
        let from_snapshot = BankIndex::default();
        assert_eq!(from_snapshot.load_snapshot(app.store(), &path).await.unwrap(), Loaded::Used { head, entries: 3 });
        assert_eq!(matches_of(&from_snapshot, &queries[..1]).len(), 1, "as of the snapshot, before catching up");
        from_snapshot.catch_up(app.store()).await.unwrap();
        let from_database = BankIndex::default();
        from_database.catch_up(app.store()).await.unwrap();
        let expected = matches_of(&from_database, &queries);
        assert_eq!(expected.len(), 4, "{expected:?}");
        assert!(expected.iter().all(|m| !m.contains(&removed_later)));
        assert_eq!(matches_of(&from_snapshot, &queries), expected, "snapshot + change log = the database");
        assert_eq!(from_snapshot.applied(), from_database.applied());
        // A snapshot of an index loaded from one and caught up since (tables with changes kept
        // beside them) loads back to the same answers.
        let again = dir.path().join("again.snapshot");
        assert_eq!(from_snapshot.write_snapshot(app.store(), &again).await.unwrap().1, 3);
        let reloaded = BankIndex::default();
        assert!(matches!(reloaded.load_snapshot(app.store(), &again).await.unwrap(), Loaded::Used { entries: 3, .. }));
        assert_eq!(matches_of(&reloaded, &queries), expected, "a snapshot of a snapshot");

        // Another database's snapshot, a truncated file and a foreign file are refused.
        let other = crate::support::TestApp::start(app.backend).await;
        let other_admin = other.key(Role::Admin, "Admin").await;
        for i in 0..6u8 {
            let (status, _) = other
                .post(
                    "/api/v1/banks/confirmed/entries",
                    &json!({"md5": format!("{i:02x}").repeat(16)}),
                    Some(&other_admin),
                )
                .await;
            assert_eq!(status, 201);
        }
        let refused = |loaded: Loaded| match loaded {
            Loaded::Refused(why) => why,
            used => panic!("used {used:?}"),
        };
        let why = refused(BankIndex::default().load_snapshot(other.store(), &path).await.unwrap());
        assert!(why.contains("another database"), "{why}");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
        let why = refused(BankIndex::default().load_snapshot(app.store(), &path).await.unwrap());
        assert!(why.contains("damaged or truncated"), "{why}");
        // One byte changed anywhere (here in the middle, among the arrays) is caught.
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        let why = refused(BankIndex::default().load_snapshot(app.store(), &path).await.unwrap());
        assert!(why.contains("damaged or truncated"), "{why}");
        // A file of the first format (rows, rebuilt at load) is refused by its version.
        let mut version_1 = bytes.clone();
        version_1[15] = 1;
        std::fs::write(&path, &version_1).unwrap();
        let why = refused(BankIndex::default().load_snapshot(app.store(), &path).await.unwrap());
        assert!(why.contains("format 1"), "{why}");
        std::fs::write(&path, b"not a snapshot at all, just text").unwrap();
        let why = refused(BankIndex::default().load_snapshot(app.store(), &path).await.unwrap());
        assert!(why.contains("not a staydown index snapshot"), "{why}");
        // A refused snapshot leaves the index unbuilt; the database build then works as always.
        let index = BankIndex::default();
        assert!(!index.is_loaded());
        index.catch_up(app.store()).await.unwrap();
        assert_eq!(matches_of(&index, &queries), expected);
    })
    .await;
}
