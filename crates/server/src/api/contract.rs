//! The API's contract, written once: every `/api/v1` operation with who may call it, what it
//! takes and what it answers (issue 15).
//!
//! Two things read this table and nothing else:
//! - [`authenticate`], a route layer that checks credentials and the role against
//!   [`crate::auth::allowed`] *before* any extractor reads the body, so a call without a valid key
//!   gets 401 (and a key whose role may not call the route 403) whatever its body holds;
//! - [`super::openapi`], which writes the OpenAPI 3.1 document served at `/api/v1/openapi.json`.
//!
//! A route added to the router but not here is not described and gets no early check (its handler
//! still checks); the test `it::openapi::every_route_is_described` names it.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use crate::AppState;
use crate::auth::{Caller, Permission, allowed};
use crate::problem::ApiError;

/// Who may call an operation, as checked before the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; no credentials are looked at.
    Open,
    /// Anyone, with a token in the request or a key: a key that is sent must be valid (401), and
    /// the handler decides on the token (e.g. a tracking token, an appeal token).
    TokenOrKey,
    /// A caller whose role (anonymous included) the permission table allows: anonymous → 401,
    /// a key with another role → 403.
    Role(Permission),
    /// Any valid key; the handler narrows (e.g. a person's own keys).
    AnyKey,
    /// The personal key of a staff account (the key of a system is 403).
    PersonalKey,
    /// HTTP Basic with a staff account's username and password (`POST /keys`).
    Basic,
    /// The staff session cookie (`GET /session`).
    Session,
}

/// What an operation's request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body.
    None,
    /// `application/json` described by the named schema in `components.schemas`.
    Json(&'static str),
    /// `multipart/form-data` described by the named schema.
    Multipart(&'static str),
    /// Either `application/json` (first schema) or `multipart/form-data` (second schema).
    JsonOrMultipart(&'static str, &'static str),
    /// The raw bytes of a file, of any media type.
    Bytes,
}

/// What an operation answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The status with a JSON body described by the named schema.
    Json(u16, &'static str),
    /// The status with no body.
    Empty(u16),
    /// 200 with bytes of the given media type (a download).
    Bytes(&'static str),
    /// 200 with JSON (the named schema) or the given media type (content negotiation).
    JsonOr(&'static str, &'static str),
}

/// A query parameter an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// The name.
    pub name: &'static str,
    /// JSON Schema type: `string`, `integer` or `boolean`.
    pub kind: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path below `/api/v1`, in the router's syntax (`/cases/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// One line for the document.
    pub summary: &'static str,
    /// The request body.
    pub body: Body,
    /// The success answer.
    pub answer: Answer,
    /// Query parameters.
    pub query: &'static [Query],
    /// Statuses beyond those that follow from access, body, path and query (which
    /// [`Operation::statuses`] adds): e.g. 409, 429, 503 from configuration.
    pub more: &'static [u16],
}

impl Operation {
    /// The full path as routed (`/api/v1/...`).
    pub fn full_path(&self) -> String {
        format!("{}{}", PREFIX, self.path)
    }

    /// Every status this operation can answer, sorted: the success status, and the errors that
    /// follow from its access (401/403), its body (400/413/415/422), its path parameters
    /// (400/404), its query (400/422), the idempotency layer on POST (409, 422), the database (503)
    /// and [`Operation::more`].
    pub fn statuses(&self) -> Vec<u16> {
        let mut s: Vec<u16> = self.more.to_vec();
        s.push(match self.answer {
            Answer::Json(status, _) | Answer::Empty(status) => status,
            Answer::Bytes(_) | Answer::JsonOr(..) => 200,
        });
        match self.access {
            Access::Open => {}
            Access::Basic | Access::AnyKey => s.push(401),
            // A Cookie header the HTTP layer cannot read is refused there with a bare 400.
            Access::Session => s.extend([400, 401]),
            // A key of a role that may not see it is 403 (the token is not looked at then).
            Access::TokenOrKey | Access::Role(_) | Access::PersonalKey => s.extend([401, 403]),
        }
        if self.access != Access::Open {
            s.push(503);
        }
        match self.body {
            Body::None => {}
            _ => s.extend([400, 413, 415, 422]),
        }
        if self.path.contains('{') {
            s.extend([400, 404]);
        }
        if !self.query.is_empty() {
            // 400 when it does not parse, 422 when a value is out of range.
            s.extend([400, 422]);
        }
        if self.method == "POST" {
            s.extend([409, 422]);
        }
        // On a deployment of several nodes (`serve --role`, docs/deploy.md) a node that does not
        // serve this route answers 421 wrong-node; every route has nodes that do not serve it.
        s.push(421);
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// Where the API is nested.
pub const PREFIX: &str = "/api/v1";

const PAGE: &[Query] = &[
    Query { name: "limit", kind: "integer", doc: "Most items to return." },
    Query { name: "offset", kind: "integer", doc: "Items to skip." },
];
const PERIOD: &[Query] = &[
    Query { name: "from", kind: "string", doc: "Start of the period (RFC 3339 or YYYY-MM-DD)." },
    Query { name: "to", kind: "string", doc: "End of the period (RFC 3339 or YYYY-MM-DD)." },
];
const TOKEN: &[Query] = &[Query { name: "token", kind: "string", doc: "The tracking or appeal token." }];
const LANG: &[Query] = &[
    Query { name: "token", kind: "string", doc: "The uploader's appeal token." },
    Query { name: "lang", kind: "string", doc: "`nl` or `en`." },
];

use Access::{AnyKey, Basic, Open, PersonalKey, Role, Session, TokenOrKey};
use Permission as P;

macro_rules! op {
    ($method:literal $path:literal, $access:expr, $summary:literal, $body:expr, $answer:expr $(, query = $q:expr)? $(, more = $more:expr)?) => {
        Operation {
            method: $method,
            path: $path,
            access: $access,
            summary: $summary,
            body: $body,
            answer: $answer,
            query: { let _q: &[Query] = &[]; $(let _q = $q;)? _q },
            more: { let _m: &[u16] = &[]; $(let _m = $more;)? _m },
        }
    };
}

/// Every `/api/v1` operation.
pub static OPERATIONS: &[Operation] = &[
    op!("GET" "/openapi.json", Open, "This document (OpenAPI 3.1)", Body::None, Answer::Json(200, "OpenApiDocument")),
    op!("GET" "/categories", Open, "The DSA statement categories and their keywords", Body::None, Answer::Json(200, "[Category]")),
    op!("GET" "/legal-grounds", Open, "The legal grounds a decision may cite", Body::None, Answer::Json(200, "[LegalGround]")),
    // Notices (Art. 16).
    op!("POST" "/notices", Role(P::FileNotice), "File a notice (Art. 16); anonymous, or as a trusted flagger, authority or platform", Body::Json("NoticeDraft"), Answer::Json(201, "NoticeCreated"), more = &[429]),
    op!("GET" "/notices/{id}", TokenOrKey, "Track a notice with its tracking token (JSON or HTML)", Body::None, Answer::JsonOr("NoticeView", "text/html"), query = TOKEN),
    // Review.
    op!("GET" "/queue", Role(P::ViewQueue), "The review queue", Body::None, Answer::Json(200, "[QueueEntry]"), query = &[
        Query { name: "limit", kind: "integer", doc: "Most entries." },
        Query { name: "state", kind: "string", doc: "Filter by state." },
        Query { name: "category", kind: "string", doc: "Filter by category." },
        Query { name: "q", kind: "string", doc: "Search." },
        Query { name: "assigned", kind: "string", doc: "`me` or `none`." },
    ]),
    op!("GET" "/cases/{id}", Role(P::ViewCase), "A case with its notices, decisions and appeals", Body::None, Answer::Json(200, "CaseView")),
    op!("POST" "/cases/{id}/decision", Role(P::Decide), "Decide a case (Art. 17)", Body::Json("DecisionDraft"), Answer::Json(201, "DecisionTaken")),
    op!("POST" "/cases/{id}/take", Role(P::Decide), "Take a case for review", Body::None, Answer::Json(200, "TakenView")),
    op!("POST" "/cases/{id}/art18", Role(P::Decide), "Notify law enforcement (Art. 18)", Body::Json("Art18Body"), Answer::Json(201, "Art18Sent"), more = &[503]),
    op!("GET" "/cases/{id}/art18", Role(P::ViewCase), "Art. 18 notifications of a case", Body::None, Answer::Json(200, "[Art18Entry]")),
    op!("POST" "/cases/{id}/content", Role(P::AttachContent), "Attach the reported item's bytes to a case (sealed at rest)", Body::Multipart("ContentUpload"), Answer::Json(201, "ContentAttached")),
    op!("GET" "/cases/{id}/content/{item}", Role(P::ViewCase), "Read attached content (audited), served with the media type it was stored with", Body::None, Answer::Bytes("*/*"), query = &[Query { name: "purpose", kind: "string", doc: "Why it is read (recorded in the audit chain)." }]),
    op!("POST" "/cases/{id}/content/{item}/legal-hold", Role(P::ManageLegalHold), "Put content under legal hold or release it", Body::Json("HoldBody"), Answer::Empty(204)),
    op!("GET" "/appeals", Role(P::ViewQueue), "Open appeals", Body::None, Answer::Json(200, "[AppealEntry]"), query = &[Query { name: "state", kind: "string", doc: "Filter by state." }]),
    op!("GET" "/decisions/{id}", Role(P::ViewCase), "A decision", Body::None, Answer::Json(200, "DecisionRecord")),
    op!("GET" "/decisions/{id}/statement", TokenOrKey, "The statement of reasons (Art. 17), for staff, the platform or the uploader with their token", Body::None, Answer::JsonOr("StatementOfReasons", "text/html"), query = LANG),
    op!("POST" "/decisions/{id}/appeals", TokenOrKey, "File an internal complaint (Art. 20) with a token", Body::Json("AppealDraft"), Answer::Json(201, "AppealFiled"), more = &[403]),
    op!("GET" "/appeals/{id}", Role(P::ViewCase), "An appeal", Body::None, Answer::Json(200, "Appeal")),
    op!("POST" "/appeals/{id}/decision", Role(P::DecideAppeal), "Decide an appeal (senior reviewers; not the original decider)", Body::Json("AppealDecisionDraft"), Answer::Json(200, "AppealDecided")),
    // Accounts and keys.
    op!("POST" "/accounts", Role(P::ManageAccounts), "Create a staff account", Body::Json("NewAccountBody"), Answer::Json(201, "AccountCreated")),
    op!("GET" "/accounts", Role(P::ViewAccounts), "Staff accounts", Body::None, Answer::Json(200, "[AccountView]")),
    op!("POST" "/accounts/{id}/disable", Role(P::ManageAccounts), "Disable an account", Body::None, Answer::Json(200, "AccountView")),
    op!("POST" "/accounts/{id}/enable", Role(P::ManageAccounts), "Enable an account", Body::None, Answer::Json(200, "AccountView")),
    op!("POST" "/accounts/{id}/password", Role(P::ManageAccounts), "Reset an account's password", Body::Json("ResetBody"), Answer::Empty(204)),
    op!("POST" "/account/password", PersonalKey, "Change your own password", Body::Json("ChangeBody"), Answer::Empty(204), more = &[429]),
    op!("POST" "/keys", Basic, "Exchange a username and password (HTTP Basic) for a personal API key", Body::None, Answer::Json(201, "KeyIssued"), more = &[429]),
    op!("GET" "/keys", AnyKey, "API keys: all for admins and auditors, your own otherwise", Body::None, Answer::Json(200, "[KeyView]"), more = &[403]),
    op!("DELETE" "/keys/{id}", AnyKey, "Revoke a key: admins any, a person their own", Body::None, Answer::Empty(204), more = &[403]),
    op!("GET" "/session", Session, "The signed-in staff session of the cookie", Body::None, Answer::Json(200, "SessionView")),
    // Operations.
    op!("GET" "/outbox/dead", Role(P::ViewOperations), "Messages that could not be delivered", Body::None, Answer::Json(200, "[DeadLetter]")),
    op!("POST" "/outbox/dead/{id}/resend", Role(P::ResendDeadLetters), "Queue a dead letter for delivery again", Body::None, Answer::Json(200, "DeadLetterResent")),
    op!("GET" "/misuse", Role(P::ViewOperations), "Art. 23 measures", Body::None, Answer::Json(200, "[MisuseMeasure]")),
    op!("GET" "/transparency/submissions", Role(P::ViewSubmissions), "Transparency Database submissions (Art. 24(5))", Body::None, Answer::Json(200, "[Submission]"), query = &[
        Query { name: "state", kind: "string", doc: "Filter by state." },
        Query { name: "limit", kind: "integer", doc: "Most entries." },
    ]),
    op!("POST" "/transparency/submissions/requeue", Role(P::RequeueSubmissions), "Send refused statements again", Body::Json("RequeueBody"), Answer::Json(200, "Requeued")),
    op!("GET" "/stats", Role(P::ViewStats), "Operational statistics", Body::None, Answer::Json(200, "Stats"), query = PERIOD),
    // Screening and banks.
    op!("POST" "/screen", Role(P::Screen), "Screen an upload (image or video bytes, or hashes) against the banks", Body::JsonOrMultipart("ScreenRequest", "ScreenUpload"), Answer::Json(200, "ScreenResponse")),
    op!("GET" "/banks", Role(P::ManageBanks), "Hash banks", Body::None, Answer::Json(200, "[BankView]")),
    op!("POST" "/banks", Role(P::ManageBanks), "Create a bank", Body::Json("BankDraft"), Answer::Json(201, "BankView")),
    op!("GET" "/banks/{name}", Role(P::ManageBanks), "A bank and a page of its entries", Body::None, Answer::Json(200, "BankPage"), query = PAGE),
    op!("PATCH" "/banks/{name}", Role(P::ManageBanks), "Change a bank's settings after creation (dihedral matching)", Body::Json("BankPatch"), Answer::Json(200, "BankView")),
    op!("POST" "/banks/{name}/entries", Role(P::ManageBanks), "Add an entry to a bank", Body::Json("EntryDraft"), Answer::Json(201, "EntryView")),
    op!("DELETE" "/banks/{name}/entries/{id}", Role(P::ManageBanks), "Remove an entry", Body::None, Answer::Empty(204)),
    op!("GET" "/banks/{name}/videos", Role(P::ManageBanks), "Video entries of a bank", Body::None, Answer::Json(200, "[BankVideo]"), query = PAGE),
    op!("POST" "/banks/{name}/videos", Role(P::ManageBanks), "Add a video (vPDQ) to a bank", Body::Json("VideoDraft"), Answer::Json(201, "BankVideo")),
    op!("PUT" "/banks/{name}/video-thresholds", Role(P::ManageBanks), "Set a bank's video match thresholds", Body::Json("Thresholds"), Answer::Json(200, "Thresholds")),
    // Helpline mode (issue 13).
    op!("GET" "/helpline/platforms", Role(P::HelplineWork), "Registered platforms", Body::None, Answer::Json(200, "[PlatformView]")),
    op!("POST" "/helpline/platforms", Role(P::HelplineWork), "Register a platform", Body::Json("PlatformDraft"), Answer::Json(201, "PlatformView")),
    op!("GET" "/helpline/platforms/{id}/pack", Role(P::HelplineWork), "Escalation pack for a platform (zip)", Body::None, Answer::Bytes("application/zip"), query = PERIOD),
    op!("POST" "/helpline/cases", Role(P::HelplineWork), "Open a help case", Body::Json("HelpCaseDraft"), Answer::Json(201, "HelpCaseCreated")),
    op!("GET" "/helpline/cases/{id}", Role(P::HelplineWork), "A help case", Body::None, Answer::Json(200, "HelpCase"), query = &[Query { name: "contact", kind: "boolean", doc: "Show the contact details (audited)." }]),
    op!("DELETE" "/helpline/cases/{id}/contact", Role(P::HelplineWork), "Erase the contact details of a help case", Body::None, Answer::Empty(204)),
    op!("POST" "/helpline/cases/{id}/referrals", Role(P::HelplineWork), "Record a referral", Body::Json("ReferralBody"), Answer::Json(201, "Referral")),
    op!("POST" "/helpline/cases/{id}/requests", Role(P::HelplineWork), "Send a removal request to a platform", Body::Json("RequestDraft"), Answer::Json(201, "RequestView")),
    op!("GET" "/helpline/cases/{id}/evidence", Role(P::HelplineWork), "Evidence of a help case", Body::None, Answer::Json(200, "[Evidence]")),
    op!("POST" "/helpline/cases/{id}/evidence", Role(P::HelplineWork), "Add evidence (sealed at rest)", Body::Bytes, Answer::Json(201, "Evidence"), query = &[Query { name: "kind", kind: "string", doc: "`evidence` (default) or `screenshot`." }]),
    op!("GET" "/helpline/cases/{id}/police-bundle", Role(P::HelplineWork), "The police bundle of a help case (zip)", Body::None, Answer::Bytes("application/zip")),
    op!("GET" "/helpline/cases/{id}/hashes", Role(P::HelplineWork), "Pre-emptive hashes of a help case", Body::None, Answer::Json(200, "[PreemptiveHash]")),
    op!("POST" "/helpline/cases/{id}/hashes", Role(P::HelplineWork), "Add a pre-emptive hash", Body::Json("HashBody"), Answer::Json(201, "PreemptiveHashAdded")),
    op!("POST" "/helpline/cases/{id}/hash-notices", Role(P::HelplineWork), "File the case's pre-emptive hashes as a hash-only notice to a platform running staydown", Body::Json("RequestDraft"), Answer::Json(201, "RequestView")),
    op!("GET" "/helpline/evidence/{id}", Role(P::HelplineWork), "Read evidence (audited), served with the media type it was stored with", Body::None, Answer::Bytes("*/*"), query = &[Query { name: "purpose", kind: "string", doc: "Why it is read." }]),
    op!("DELETE" "/helpline/evidence/{id}", Role(P::HelplineWork), "Erase evidence (409 while under legal hold)", Body::None, Answer::Empty(204), more = &[409]),
    op!("POST" "/helpline/evidence/{id}/legal-hold", Role(P::HelplineWork), "Put evidence under legal hold or release it", Body::Json("HoldBody"), Answer::Json(200, "Evidence")),
    op!("GET" "/helpline/requests/{id}", Role(P::HelplineWork), "A removal request", Body::None, Answer::Json(200, "RequestWithChecks")),
    op!("POST" "/helpline/requests/{id}/answer", Role(P::HelplineWork), "Record a platform's answer", Body::Json("AnswerBody"), Answer::Json(200, "RequestView")),
    op!("POST" "/helpline/requests/{id}/check", Role(P::HelplineWork), "Check the reported URL now", Body::None, Answer::Json(200, "UrlCheck")),
    op!("POST" "/helpline/requests/{id}/release", Role(P::HelplineWork), "Release a held request", Body::None, Answer::Json(200, "RequestView")),
    op!("POST" "/helpline/requests/{id}/sent", Role(P::HelplineWork), "Mark a letter or web-form request as sent by hand", Body::Json("SentBody"), Answer::Json(200, "RequestView")),
    op!("POST" "/helpline/sync", Role(P::HelplineWork), "Follow up open requests now", Body::None, Answer::Json(200, "SyncReport")),
    op!("GET" "/helpline/league", Role(P::ViewHelplineFigures), "League table of platforms", Body::None, Answer::Json(200, "[LeagueRow]"), query = PERIOD),
    op!("GET" "/helpline/figures", Role(P::ViewHelplineFigures), "Yearly figures", Body::None, Answer::Json(200, "HelplineFigures"), query = PERIOD),
];

/// The operation routed at `method` + the full matched path, if described.
pub fn find(method: &Method, matched: &str) -> Option<&'static Operation> {
    let path = matched.strip_prefix(PREFIX)?;
    OPERATIONS.iter().find(|op| op.path == path && op.method == method.as_str())
}

/// Route layer: authenticates and authorises a described operation from its headers alone, before
/// any extractor reads the body. The checked [`Caller`] is left in the request's extensions, where
/// the handler's `Caller` extractor picks it up without a second lookup.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(op) = req.extensions().get::<MatchedPath>().and_then(|m| find(req.method(), m.as_str())) else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let caller = match op.access {
        Access::Open => None,
        Access::Basic => {
            let basic = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "));
            if !basic {
                return ApiError::Unauthorized("send your username and password with HTTP Basic authentication")
                    .into_response();
            }
            None
        }
        // The session is read from its cookie by the handler, which reads no body.
        Access::Session => None,
        Access::TokenOrKey | Access::Role(_) | Access::AnyKey | Access::PersonalKey => {
            match Caller::from_request_parts(&mut parts, &state).await {
                Ok(caller) => Some(caller),
                Err(e) => return e.into_response(),
            }
        }
    };
    if let Some(caller) = caller {
        let checked = match op.access {
            Access::Role(permission) => caller.require(permission),
            Access::AnyKey if caller.key.is_none() => {
                Err(ApiError::Unauthorized("this needs an API key: send Authorization: Bearer <key>"))
            }
            Access::PersonalKey => match &caller.key {
                None => Err(ApiError::Unauthorized("this needs a personal API key: send Authorization: Bearer <key>")),
                Some(k) if k.account_id.is_none() => {
                    Err(ApiError::Forbidden("only a staff account's personal key can change its password"))
                }
                Some(_) => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(e) = checked {
            return e.into_response();
        }
        parts.extensions.insert(caller);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// `allowed` re-exported for the document's role lists.
pub(crate) fn roles_allowed(permission: Permission) -> Vec<&'static str> {
    staydown_domain::roles::Role::ALL.iter().filter(|r| allowed(Some(**r), permission)).map(|r| r.as_str()).collect()
}

/// The `/api/v1` router being built, with the path of every route kept, so a test can walk the
/// router's paths and compare them with [`OPERATIONS`] (axum's `Router` does not list its routes).
pub struct ApiRoutes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Default for ApiRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiRoutes {
    /// No routes yet.
    pub fn new() -> Self {
        Self { router: Router::new(), paths: Vec::new() }
    }

    /// Adds a route, as [`Router::route`].
    pub fn route(mut self, path: &'static str, method_router: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, method_router);
        self.paths.push(path);
        self
    }

    /// Adds another set's routes, as [`Router::merge`].
    pub fn merge(mut self, other: ApiRoutes) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }

    /// Sets the body limit of the routes added so far.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.router = self.router.layer(DefaultBodyLimit::max(bytes));
        self
    }

    /// The paths routed so far (below `/api/v1`).
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    /// The router, with the authentication layer on every route.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        self.router.route_layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
    }
}
