//! Peak memory of the server stays under `screen_decode_memory` while hostile uploads arrive
//! together (issue 15): eight concurrent 6000 × 6000 JPEGs (140 KB each, 144 MB each to decode)
//! against a 160 MiB budget. The peak resident set of the real server process, read from /proc
//! after resetting it, must stay within the budget plus a fixed allowance over the idle process.
//! Before the budget, decodes ran one per core, and a timed-out one kept running outside it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_staydown");
const BUDGET: u64 = 160 << 20;
/// What the process may hold above its idle size besides decodes: request bodies, allocator
/// slack, thread stacks.
const ALLOWANCE: u64 = 64 << 20;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = text.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in {text}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn screen(client: &reqwest::Client, base: &str, key: &str, image: &[u8]) -> u16 {
    let boundary = "staydown-memory-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .post(format!("{base}/api/v1/screen"))
        .bearer_auth(key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_stays_under_the_decode_budget_under_concurrent_hostile_uploads() {
    if !std::path::Path::new("/proc/self/clear_refs").exists() {
        eprintln!("skipped: needs Linux /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let key = Command::new(BIN)
        .args(["key", "create", "--role", "platform", "--name", "m", "--database", &db])
        .output()
        .unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["serve", "--database", &db, "--listen", &format!("127.0.0.1:{port}")])
        .env("STAYDOWN_LOG", "warn")
        .env("STAYDOWN_SCREEN_DECODE_MEMORY", BUDGET.to_string())
        .env("STAYDOWN_SCREEN_DECODE_TIMEOUT", "120s")
        .env_remove("STAYDOWN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("staydown listening on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let server = Server(child);
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // Warm up (index built, pools open), then reset the peak to the idle size.
    assert_eq!(screen(&client, &base, &key, &staydown_testkit::hostile::flat_jpeg(64, 64, 1)).await, 200);
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let idle = status_kib(pid, "VmRSS:") * 1024;

    let image = staydown_testkit::hostile::flat_jpeg(6000, 6000, 1);
    let uploads: Vec<_> = (0..8)
        .map(|_| {
            let (client, base, key, image) = (client.clone(), base.clone(), key.clone(), image.clone());
            tokio::spawn(async move { screen(&client, &base, &key, &image).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for u in uploads {
        statuses.push(u.await.unwrap());
    }
    let peak = status_kib(pid, "VmHWM:") * 1024;
    eprintln!(
        "8 uploads of 6000x6000 ({} bytes each): statuses {statuses:?}; idle RSS {} MiB, peak {} MiB, budget {} MiB",
        image.len(),
        idle >> 20,
        peak >> 20,
        BUDGET >> 20
    );
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(
        peak < idle + BUDGET + ALLOWANCE,
        "peak RSS {} MiB over idle {} MiB + budget {} MiB + allowance {} MiB",
        peak >> 20,
        idle >> 20,
        BUDGET >> 20,
        ALLOWANCE >> 20
    );
}
