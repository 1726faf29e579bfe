//! A `staydown serve` child process for the tests that run the real binary (crash safety, the
//! bank import under intake): started on a free loopback port, ready once it says it listens,
//! killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `staydown serve`; SIGKILLed and reaped when dropped.
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl ServeProcess {
    /// Starts `bin serve --database db --listen 127.0.0.1:<free port>` with `env` added (and
    /// `STAYDOWN_CONFIG` removed, so a developer's config file does not leak in) and returns once
    /// the server has logged "staydown listening on" (it binds before it says so).
    ///
    /// # Panics
    /// When the binary cannot start or exits before listening (with its output in the message).
    pub fn start(bin: &str, db: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("port").port();
        let mut command = Command::new(bin);
        command.args(["serve", "--database", db, "--listen", &format!("127.0.0.1:{port}")]);
        command.env("STAYDOWN_LOG", "warn").env_remove("STAYDOWN_CONFIG");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start staydown serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr piped")).lines();
        let mut seen = Vec::new();
        loop {
            let Some(line) = lines.next() else { panic!("server exited before listening: {}", seen.join("\n")) };
            let line = line.expect("read server output");
            if line.contains("staydown listening on") {
                break;
            }
            seen.push(line);
        }
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServeProcess { child, base: format!("http://127.0.0.1:{port}") }
    }

    /// Kills the server with SIGKILL (no shutdown, as a crash or `kill -9`) and reaps it.
    ///
    /// # Panics
    /// When the process cannot be signalled or waited for.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
