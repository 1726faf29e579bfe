//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.
//!
//! PostgreSQL tests start their own throwaway cluster (initdb in a temporary directory, a free
//! loopback port) the first time a test asks for one, when the PostgreSQL server binaries are
//! present; otherwise they print that they were skipped. `STAYDOWN_REQUIRE_POSTGRES=1` (set by
//! `.ci/run`) turns a missing PostgreSQL into a failure, and `STAYDOWN_TEST_POSTGRES_URL` points the
//! tests at an existing server instead (an admin URL allowed to `CREATE DATABASE`).
//!
//! The cluster is stopped and its directory removed when the test process exits: the server runs
//! under a small shell that waits on a pipe from this process and shuts PostgreSQL down when the
//! pipe closes — no process is left behind even when a test panics.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor};
use tokio::sync::OnceCell;

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (always available).
    Sqlite,
    /// PostgreSQL (a throwaway cluster or `STAYDOWN_TEST_POSTGRES_URL`).
    Postgres,
}

/// A fresh, empty database for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL (`sqlite://…` or `postgres://…`).
    pub url: String,
    /// Which backend.
    pub backend: Backend,
    /// Keeps the SQLite directory alive for the test's duration.
    pub dir: Option<tempfile::TempDir>,
}

/// The backends this test run covers: SQLite always, PostgreSQL when it can be had.
pub async fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if postgres_admin_url().await.is_some() {
        out.push(Backend::Postgres);
    }
    out
}

/// A fresh database on `backend`.
pub async fn fresh_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir for the SQLite test database");
            let url = format!("sqlite://{}", dir.path().join("staydown.db").display());
            TestDatabase { url, backend, dir: Some(dir) }
        }
        Backend::Postgres => {
            let admin = postgres_admin_url().await.expect("PostgreSQL asked for but not available");
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test cluster");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create test database");
            conn.close().await.ok();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            TestDatabase { url: format!("{base}/{name}"), backend, dir: None }
        }
    }
}

static POSTGRES: OnceCell<Option<String>> = OnceCell::const_new();
static CLUSTER: Mutex<Option<Cluster>> = Mutex::new(None);

struct Cluster {
    // Dropping this (at process exit, when the pipe closes) stops the server.
    _keepalive: std::process::ChildStdin,
    _child: Child,
}

async fn postgres_admin_url() -> Option<String> {
    POSTGRES
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("STAYDOWN_TEST_POSTGRES_URL") {
                return Some(url);
            }
            let started = match find_postgres_bin() {
                Some(bin) => start_cluster(&bin).await,
                None => Err("no PostgreSQL server binaries found (install Debian's `postgresql`, or set STAYDOWN_PG_BIN or STAYDOWN_TEST_POSTGRES_URL)".to_owned()),
            };
            match started {
                Ok(url) => Some(url),
                Err(why) => {
                    if std::env::var("STAYDOWN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                        panic!("STAYDOWN_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: {why}");
                    }
                    eprintln!("\n*** PostgreSQL tests SKIPPED: {why} ***\n");
                    None
                }
            }
        })
        .await
        .clone()
}

fn find_postgres_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("STAYDOWN_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL refuses to run as root: run its commands as the `postgres` user then.
fn pg_command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

async fn start_cluster(bin: &Path) -> Result<String, String> {
    let as_postgres = running_as_root();
    let dir = tempfile::Builder::new().prefix("staydown-pg-").tempdir().map_err(|e| e.to_string())?.keep();
    if as_postgres {
        let status = Command::new("chown").arg("postgres:postgres").arg(&dir).status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("could not chown the cluster directory to the postgres user".into());
        }
    }
    let data = dir.join("data");
    let out = pg_command(as_postgres, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    // The shell keeps PostgreSQL running while its stdin stays open, then stops it and cleans up.
    let script = r#"
        "$1/postgres" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 >"$2/server.log" 2>&1 &
        pid=$!
        cat >/dev/null
        kill -INT "$pid"; wait "$pid"; rm -rf "$2"
    "#;
    let mut child = pg_command(as_postgres, Path::new("/bin/sh"))
        .args(["-c", script, "sh"])
        .arg(bin)
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    let keepalive = child.stdin.take().ok_or("no stdin pipe")?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    loop {
        match sqlx::PgConnection::connect(&url).await {
            Ok(conn) => {
                conn.close().await.ok();
                break;
            }
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                let mut log = String::new();
                std::fs::File::open(dir.join("server.log")).and_then(|mut f| f.read_to_string(&mut log)).ok();
                return Err(format!("PostgreSQL did not accept connections within 60 s: {e}\n{log}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    *CLUSTER.lock().map_err(|_| "cluster lock poisoned")? = Some(Cluster { _keepalive: keepalive, _child: child });
    Ok(url)
}

pub mod hostile;
pub mod serve;

#[cfg(feature = "browser")]
pub mod browser;
