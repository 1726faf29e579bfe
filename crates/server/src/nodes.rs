//! Node roles: one process does everything (the default), or a deployment on one PostgreSQL runs
//! several processes, each with some of three roles (issue 16 goal 4, docs/deploy.md).
//!
//! - **api**: every HTTP route a client or a person needs except upload screening: notices, cases,
//!   decisions, appeals, banks, the public pages and the staff console. It holds no match index;
//!   bank changes it commits reach the screeners through the database's change log.
//! - **screen**: holds the in-memory match index (`screening`) and answers `POST /api/v1/screen`.
//!   It learns bank changes from PostgreSQL's `NOTIFY` within milliseconds, with a periodic
//!   catch-up from the change log as a fallback, and can start from an index snapshot
//!   (`screening_snapshot`).
//! - **worker**: the background jobs that must each run once per item however many processes
//!   share the database: the outbox (emails and webhooks), the EU Transparency Database submitter,
//!   the helpline sync and blob retention. Claims are leases on the rows (`claimed_until`, set by a
//!   compare-and-set `UPDATE`), so any number of workers deliver each item once.
//!
//! Every node answers `/livez`, `/readyz`, `/healthz` and `/metrics`. A request for a route that
//! belongs to a role this node lacks is answered `421 Misdirected Request` with a problem document
//! naming this node's roles and the role that serves the route ([`gate`]): the load balancer sent
//! it to the wrong pool, and retrying it elsewhere is safe. The node does not forward it: a
//! forwarding API node would need to know where screeners are and would double the hops of the
//! hottest route; the load balancer already knows.
//!
//! On SQLite only all three roles in one process are allowed (one file, one writer process).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::problem::ApiError;

/// The roles a process runs. The default is all three (one process does everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// Serves the HTTP API and pages other than screening.
    pub api: bool,
    /// Holds the match index and answers `POST /api/v1/screen`.
    pub screen: bool,
    /// Runs the outbox, Transparency Database submitter, helpline sync and retention.
    pub worker: bool,
}

impl Default for Roles {
    fn default() -> Self {
        Self::ALL
    }
}

impl Roles {
    /// All three roles in one process.
    pub const ALL: Self = Self { api: true, screen: true, worker: true };

    /// Parses role names (`api`, `screen`, `worker`, or `all`), each item possibly a comma list, as
    /// `--role api,screen` or `--role api --role screen` give them. An empty list means all.
    ///
    /// # Errors
    /// A message naming the unknown role and the valid ones.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut roles = Self { api: false, screen: false, worker: false };
        let mut any = false;
        for item in items {
            for name in item.as_ref().split(',').map(str::trim).filter(|s| !s.is_empty()) {
                any = true;
                match name {
                    "api" => roles.api = true,
                    "screen" => roles.screen = true,
                    "worker" => roles.worker = true,
                    "all" => roles = Self::ALL,
                    other => return Err(format!("unknown role {other:?}: use api, screen, worker or all")),
                }
            }
        }
        Ok(if any { roles } else { Self::ALL })
    }

    /// Whether this is the all-in-one process.
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }

    /// The role names, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        [(self.api, "api"), (self.screen, "screen"), (self.worker, "worker")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect()
    }

    /// Which role serves `path` (`None`: every node answers it).
    pub fn role_of(path: &str) -> Option<&'static str> {
        match path {
            "/livez" | "/readyz" | "/healthz" | "/metrics" => None,
            "/api/v1/screen" => Some("screen"),
            _ => Some("api"),
        }
    }

    fn serves(self, role: &str) -> bool {
        match role {
            "api" => self.api,
            "screen" => self.screen,
            _ => self.worker,
        }
    }
}

impl std::fmt::Display for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.names();
        if names.is_empty() { f.write_str("none") } else { f.write_str(&names.join(",")) }
    }
}

/// Middleware: answers `421 Misdirected Request` (problem `wrong-node`) for a route of a role this
/// node does not run; passes everything else on. The OpenAPI document is served by api and screen
/// nodes alike (a screening client reads it from the screeners).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let roles = state.settings().roles;
    if roles.is_all() {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let needed = Roles::role_of(path);
    let allowed = match needed {
        None => true,
        Some(_) if path == "/api/v1/openapi.json" => roles.api || roles.screen,
        Some(role) => roles.serves(role),
    };
    if allowed {
        return next.run(req).await;
    }
    let role = needed.unwrap_or("api");
    ApiError::WrongNode(format!(
        "this node runs the role(s) {roles}; {path} is served by nodes with the {role} role — send it to that pool"
    ))
    .into_response()
}

/// How often a worker erases blobs past their retention.
pub const RETENTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// The retention job of a worker: erases blobs whose retention has passed and that are not under
/// legal hold (`Store::erase_expired_blobs`, each erasure audited), at start and every
/// [`RETENTION_INTERVAL`]. Several workers may run it: each erasure is one write transaction that
/// re-reads what is still to erase, so a blob is erased once.
pub async fn run_retention(state: AppState) {
    let mut tick = tokio::time::interval(RETENTION_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.store().erase_expired_blobs(state.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(erased = n, "retention: blobs past their retention erased"),
            Err(e) => tracing::warn!(error = %e, "retention pass failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Roles;

    #[test]
    fn roles_parse_from_repeated_flags_and_comma_lists() {
        assert_eq!(Roles::parse::<&str>(&[]).unwrap(), Roles::ALL);
        assert_eq!(Roles::parse(&["all"]).unwrap(), Roles::ALL);
        assert_eq!(Roles::parse(&["screen"]).unwrap(), Roles { api: false, screen: true, worker: false });
        assert_eq!(Roles::parse(&["api,worker"]).unwrap(), Roles { api: true, screen: false, worker: true });
        assert_eq!(Roles::parse(&["api", "screen"]).unwrap(), Roles { api: true, screen: true, worker: false });
        assert!(Roles::parse(&["api,screener"]).unwrap_err().contains("screener"));
        assert_eq!(Roles { api: true, screen: false, worker: true }.to_string(), "api,worker");
    }

    #[test]
    fn every_route_but_health_and_metrics_belongs_to_a_role() {
        assert_eq!(Roles::role_of("/api/v1/screen"), Some("screen"));
        assert_eq!(Roles::role_of("/api/v1/notices"), Some("api"));
        assert_eq!(Roles::role_of("/report"), Some("api"));
        assert_eq!(Roles::role_of("/readyz"), None);
        assert_eq!(Roles::role_of("/metrics"), None);
    }
}
