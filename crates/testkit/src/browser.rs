//! Headless Chromium for page tests (feature `browser`): chromedriver on a free loopback port,
//! one fresh Chromium profile per session, form helpers, window sizes, screenshots and axe-core.
//!
//! [`Browser::get`] starts chromedriver once per test process (it is stopped when the process
//! exits, even after a panic: it runs under a small shell that waits on a pipe from this process).
//! When `chromium`/`chromedriver` are not installed the tests print that they were skipped;
//! `STAYDOWN_REQUIRE_BROWSER=1` (set by `.ci/run`) turns that into a failure. Paths can be
//! overridden with `STAYDOWN_CHROMIUM` and `STAYDOWN_CHROMEDRIVER`.
//!
//! axe-core comes from npm (`crates/testkit/browser/package.json`, installed with `npm ci` there);
//! [`Session::axe`] injects `axe.min.js` into the page and fails on critical or serious violations.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use fantoccini::{Client, Locator};
use serde_json::{Value, json};

/// Desktop window size (CSS pixels).
pub const DESKTOP: (u32, u32) = (1280, 900);
/// Phone window size (CSS pixels).
pub const PHONE: (u32, u32) = (360, 780);

fn require() -> bool {
    std::env::var("STAYDOWN_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

fn binary(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    path.exists().then_some(path)
}

/// The running chromedriver.
#[derive(Debug)]
pub struct Browser {
    port: u16,
    chromium: PathBuf,
    _guard: Mutex<(Child, ChildStdin)>,
}

static BROWSER: OnceLock<Option<Browser>> = OnceLock::new();

impl Browser {
    /// The process-wide chromedriver, started on first use; `None` (with a printed line) when the
    /// browser is not installed and not required.
    pub fn get(test: &str) -> Option<&'static Browser> {
        let b = BROWSER.get_or_init(Browser::start).as_ref();
        if b.is_none() {
            assert!(!require(), "STAYDOWN_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed");
            println!(
                "skipped {test}: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
            );
        }
        b
    }

    fn start() -> Option<Browser> {
        let chromium = binary("STAYDOWN_CHROMIUM", "/usr/bin/chromium")?;
        let driver = binary("STAYDOWN_CHROMEDRIVER", "/usr/bin/chromedriver")?;
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        // The shell starts chromedriver, waits until our end of the pipe closes (this process
        // exited), then stops chromedriver and the browsers it started.
        let script = format!(
            "\"$0\" --port={port} --allowed-ips=127.0.0.1 --log-level=SEVERE >/dev/null 2>&1 & pid=$!; \
             read _; kill $(pgrep -P $pid) $pid 2>/dev/null; wait $pid"
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&driver)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let stdin = child.stdin.take().expect("piped stdin");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Browser { port, chromium, _guard: Mutex::new((child, stdin)) })
    }

    /// A new headless Chromium session with a fresh profile, at desktop size.
    pub async fn session(&self) -> Session {
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--hide-scrollbars".into(),
            "--force-device-scale-factor=1".into(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": self.chromium, "args": args },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("start a Chromium session");
        Session { client, _profile: profile }
    }
}

/// One Chromium session (one tab, its own profile). Call [`Session::close`] at the end.
#[derive(Debug)]
pub struct Session {
    /// The WebDriver client, for anything the helpers below do not cover.
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current address.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("current url").to_string()
    }

    /// The element matching a CSS selector (waits up to 10 s for it).
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Whether an element matching `css` is on the page now.
    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Replaces the text of an input or textarea.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks an element. When the element leaves the page (a submit button of a form, a link to
    /// another address), waits until the next page has loaded, so that what the test reads next
    /// is never the page it left (up to 20 s; a submission the browser itself blocks, e.g. an
    /// empty `required` field, ends the wait early since the old page stays).
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        let leaves = self
            .client
            .execute(
                "const e = arguments[0];
                 const submits = e.form && ((e.tagName === 'BUTTON' && (e.type || 'submit') === 'submit')
                     || (e.tagName === 'INPUT' && (e.type === 'submit' || e.type === 'image')));
                 const link = e.closest('a[href]');
                 const away = link && !link.getAttribute('href').startsWith('#') && !link.target;
                 if (!(submits || away)) return false;
                 if (submits && !e.form.noValidate && !e.formNoValidate && !e.form.checkValidity()) return false;
                 window.__staydownLeaving = true;
                 return true;",
                vec![serde_json::to_value(&el).expect("element as JSON")],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        el.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        if leaves {
            self.wait_for_next_page(css).await;
        }
    }

    /// Waits until the document that was marked before a click is gone and its successor has
    /// loaded.
    async fn wait_for_next_page(&self, css: &str) {
        let start = Instant::now();
        loop {
            // Scripts fail while the browser is between documents; that counts as "not yet".
            let arrived = self
                .client
                .execute("return window.__staydownLeaving !== true && document.readyState === 'complete';", vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if arrived {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "clicking {css} never led to the next page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Chooses files in an `<input type=file multiple>`.
    pub async fn choose_files(&self, css: &str, files: &[&Path]) {
        let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.find(css).await.send_keys(&list.join("\n")).await.unwrap_or_else(|e| panic!("choose files in {css}: {e}"));
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The value of an attribute.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap_or_else(|e| panic!("attribute {name} of {css}: {e}"))
    }

    /// The value of a form control (its current `value` property).
    pub async fn value(&self, css: &str) -> String {
        self.find(css).await.prop("value").await.ok().flatten().unwrap_or_default()
    }

    /// Waits until `css` matches an element whose text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
                && t.contains(needle)
            {
                return t;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{css} never contained {needle:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets the viewport size in CSS pixels (desktop or phone; see [`DESKTOP`], [`PHONE`]).
    pub async fn size(&self, (width, height): (u32, u32)) {
        // The window includes no chrome in headless mode, so window size = viewport size.
        self.client.set_window_size(width, height).await.expect("set window size");
    }

    /// Whether the page scrolls sideways at the current width (it must not, down to 320 px).
    pub async fn scrolls_sideways(&self) -> bool {
        let v = self
            .client
            .execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![])
            .await
            .expect("measure width");
        v.as_bool().unwrap_or(true)
    }

    /// Saves a PNG of the viewport; with `full_page`, of the whole page (the window is grown to
    /// the document's height for the shot, then restored).
    pub async fn screenshot(&self, path: &Path, full_page: bool) {
        self.client.execute("window.scrollTo(0, 0);", vec![]).await.ok();
        let restore = if full_page {
            let (w, h) = self.client.get_window_size().await.expect("window size");
            let (w, h) = (u32::try_from(w).unwrap_or(DESKTOP.0), u32::try_from(h).unwrap_or(DESKTOP.1));
            let height = self
                .client
                .execute("return Math.ceil(document.documentElement.scrollHeight);", vec![])
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .unwrap_or(u64::from(h));
            self.client.set_window_size(w, u32::try_from(height.min(6000)).unwrap_or(h)).await.ok();
            Some((w, h))
        } else {
            None
        };
        self.client.execute("window.scrollTo(0, 0);", vec![]).await.ok();
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).ok();
        }
        std::fs::File::create(path).and_then(|mut f| f.write_all(&png)).expect("write screenshot");
        if let Some((w, h)) = restore {
            self.client.set_window_size(w, h).await.ok();
        }
    }

    /// Runs axe-core on the current page and panics on any critical or serious violation
    /// (`label` names the page in the message). Returns the number of lesser findings.
    pub async fn axe(&self, label: &str) -> usize {
        let Some(source) = axe_source() else {
            assert!(!require(), "axe-core is missing: run `npm ci` in crates/testkit/browser");
            println!("skipped axe on {label}: run `npm ci` in crates/testkit/browser");
            return 0;
        };
        // WebDriver scripts run outside the page's CSP, so the strict policy does not block this.
        let loaded = self
            .client
            .execute(&format!("{source}\n;return typeof axe === 'object';"), vec![])
            .await
            .expect("inject axe-core");
        assert_eq!(loaded, Value::Bool(true), "axe-core did not load on {label}");
        let script = r"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || ''))
              }))))
              .catch(e => done({ error: String(e) }));";
        let result = self.client.execute_async(script, vec![]).await.expect("run axe-core");
        let Value::Array(violations) = result else { panic!("axe-core failed on {label}: {result}") };
        let serious: Vec<&Value> =
            violations.iter().filter(|v| matches!(v["impact"].as_str(), Some("critical" | "serious"))).collect();
        assert!(
            serious.is_empty(),
            "axe-core: {} critical/serious violation(s) on {label}:\n{}",
            serious.len(),
            serde_json::to_string_pretty(&serious).unwrap_or_default()
        );
        violations.len()
    }

    /// Ends the session (closes the browser).
    pub async fn close(self) {
        self.client.close().await.ok();
    }
}

/// `axe.min.js` from `crates/testkit/browser/node_modules`, if installed.
pub fn axe_source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
            std::fs::read_to_string(path).ok()
        })
        .as_deref()
}
