//! Helpline mode's storage: the platform registry, help cases, removal requests with every
//! timestamp, URL checks and referrals (issue 13).
//!
//! The helpline's side of DSA Art. 16: each request is stored (state `drafted`) before anything
//! leaves, so a crash between sending and recording never loses one, and a send is claimed with a
//! lease so two workers never file the same request twice. Personal data of the person helped lives
//! only in `helpline_case_contacts`: read for the case view, erasable, never in audit details, packs
//! or exports. State changes go through `domain::helpline::request::transition` and into the audit
//! chain in the same transaction; audit details carry ids and states, never URLs or names.

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::helpline::league::LeagueInput;
use staydown_domain::helpline::request::{NewRequest, RequestState, transition};
use staydown_domain::helpline::{HelpContact, NewHelpCase, NewPlatform, PlatformChannel};
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::outbox::NewOutboxItem;
use crate::{Result, Store, StoreError, WriteTx, from_ms, to_ms};

/// A registered platform. `api_key` is the helpline's secret there: never serialise it outward.
#[derive(Clone, PartialEq, Eq)]
pub struct PlatformRecord {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// How requests reach it.
    pub channel: PlatformChannel,
    /// staydown base URL.
    pub staydown_url: Option<String>,
    /// The helpline's key there (secret).
    pub api_key: Option<String>,
    /// Abuse address.
    pub email: Option<String>,
    /// Web form.
    pub web_form_url: Option<String>,
    /// Member state.
    pub member_state: Option<String>,
    /// Trusted flagger there.
    pub trusted_flagger: bool,
    /// Digital Services Coordinator.
    pub dsc: Option<String>,
    /// Language of e-mailed requests.
    pub language: String,
    /// Registered at.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for PlatformRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("channel", &self.channel)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A stored help case (without its contact details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpCaseRecord {
    /// Id.
    pub id: String,
    /// Summary (may name the person: not exported by default).
    pub summary: String,
    /// Intake channel.
    pub channel: Option<String>,
    /// Image kind.
    pub image_kind: String,
    /// Sextortion.
    pub sextortion: bool,
    /// Exposure.
    pub exposure: String,
    /// Minor involved.
    pub minor_involved: String,
    /// Municipality.
    pub municipality: Option<String>,
    /// Consent recorded.
    pub consent: bool,
    /// Reporting organisation.
    pub reporting_organisation: Option<String>,
    /// Opened at.
    pub created_at: OffsetDateTime,
}

/// A stored removal request with every timestamp.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Id.
    pub id: String,
    /// Help case.
    pub case_id: String,
    /// Platform.
    pub platform_id: String,
    /// Channel at the time of sending.
    pub channel: PlatformChannel,
    /// Filed as a trusted flagger.
    pub trusted_flagger: bool,
    /// Location.
    pub url: String,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Legal ground id.
    pub legal_ground: String,
    /// Explanation.
    pub explanation: String,
    /// Minor involved.
    pub minor_involved: String,
    /// AI-generated.
    pub ai_generated: String,
    /// Language.
    pub language: String,
    /// State.
    pub state: RequestState,
    /// Drafted at.
    pub drafted_at: OffsetDateTime,
    /// Sent at.
    pub sent_at: Option<OffsetDateTime>,
    /// Acknowledged at.
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Removed at.
    pub removed_at: Option<OffsetDateTime>,
    /// Refused at.
    pub refused_at: Option<OffsetDateTime>,
    /// Marked unanswered at.
    pub no_answer_at: Option<OffsetDateTime>,
    /// Answer due at.
    pub answer_due_at: Option<OffsetDateTime>,
    /// Reminders sent.
    pub reminders: i64,
    /// Send attempts.
    pub send_attempts: i64,
    /// A send may have reached the platform without an answer; not re-sent by itself.
    pub send_uncertain: bool,
    /// Last send or sync error.
    pub last_error: Option<String>,
    /// The platform's notice id (staydown platforms).
    pub remote_notice_id: Option<String>,
    /// The tracking token there (secret: never serialise outward).
    pub remote_token: Option<String>,
    /// The platform's decision id.
    pub remote_decision_id: Option<String>,
    /// The platform's answer (statement of reasons or recorded answer).
    pub answer: Option<serde_json::Value>,
    /// Last sync with the platform.
    pub last_synced_at: Option<OffsetDateTime>,
    /// Latest URL check state.
    pub url_state: Option<String>,
    /// Latest URL check.
    pub url_checked_at: Option<OffsetDateTime>,
    /// When a URL check first found it gone.
    pub offline_at: Option<OffsetDateTime>,
    /// Next URL check due.
    pub next_check_at: Option<OffsetDateTime>,
    /// For a hash-only notice (pre-emptive hashes; `url` is empty): the hash sets filed, as the
    /// JSON array of the notice's `hashes` field (`pdq`, `pdq_quality`, `sha256`, `md5`).
    pub hashes: Option<serde_json::Value>,
}

impl RequestRecord {
    /// Whether this is a hash-only notice (no URL to check).
    pub fn is_hash_only(&self) -> bool {
        self.hashes.is_some()
    }
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestRecord")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("remote_notice_id", &self.remote_notice_id)
            .field("remote_token", &self.remote_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One URL check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCheckRecord {
    /// Id.
    pub id: String,
    /// Request.
    pub request_id: String,
    /// When.
    pub checked_at: OffsetDateTime,
    /// `present`, `gone` or `unknown`.
    pub state: String,
    /// HTTP status seen, if any.
    pub http_status: Option<i64>,
    /// Why (e.g. `status 404`, `timeout`, `redirect to a private address`).
    pub detail: String,
}

/// An answer to record on a request.
#[derive(Debug, Clone)]
pub struct RequestAnswer<'a> {
    /// New state.
    pub state: RequestState,
    /// When the platform acted (its decision time, or what the caseworker records).
    pub at: OffsetDateTime,
    /// The platform's answer as JSON (statement of reasons, or the caseworker's note).
    pub answer: Option<serde_json::Value>,
    /// The platform's decision id.
    pub decision_id: Option<&'a str>,
    /// Who records it (`system` for the sync).
    pub actor: &'a str,
}

/// The helpline's yearly figures (no personal data).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct YearFigures {
    /// Help cases opened in the period.
    pub cases: i64,
    /// By image kind.
    pub by_image_kind: Vec<(String, i64)>,
    /// By intake channel (`unknown` when not recorded).
    pub by_channel: Vec<(String, i64)>,
    /// By municipality (`unknown` when not recorded).
    pub by_municipality: Vec<(String, i64)>,
    /// Sextortion cases.
    pub sextortion: i64,
    /// Cases with a minor involved.
    pub minor_involved: i64,
    /// Referrals by kind.
    pub referrals: Vec<(String, i64)>,
}

const PLATFORM_COLUMNS: &str = "id, name, channel, staydown_url, api_key, email, web_form_url, member_state, \
                                trusted_flagger, dsc, language, created_at";
const CASE_COLUMNS: &str = "id, summary, channel, image_kind, sextortion, exposure, minor_involved, municipality, \
                            consent, reporting_organisation, created_at";
const REQUEST_COLUMNS: &str = "id, case_id, platform_id, channel, trusted_flagger, url, category, keywords, legal_ground, \
     explanation, minor_involved, ai_generated, language, state, drafted_at, sent_at, acknowledged_at, removed_at, \
     refused_at, no_answer_at, answer_due_at, reminders, send_attempts, send_uncertain, last_error, remote_notice_id, \
     remote_token, remote_decision_id, answer, last_synced_at, url_state, url_checked_at, offline_at, next_check_at, hashes";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

fn opt_time(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<OffsetDateTime>> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(from_ms))
}

fn platform_row(row: &sqlx::any::AnyRow) -> Result<PlatformRecord> {
    let channel: String = row.try_get("channel")?;
    Ok(PlatformRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel: PlatformChannel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        staydown_url: row.try_get("staydown_url")?,
        api_key: row.try_get("api_key")?,
        email: row.try_get("email")?,
        web_form_url: row.try_get("web_form_url")?,
        member_state: row.try_get("member_state")?,
        trusted_flagger: row.try_get::<i64, _>("trusted_flagger")? != 0,
        dsc: row.try_get("dsc")?,
        language: row.try_get("language")?,
        created_at: from_ms(row.try_get("created_at")?),
    })
}

fn case_row(row: &sqlx::any::AnyRow) -> Result<HelpCaseRecord> {
    Ok(HelpCaseRecord {
        id: row.try_get("id")?,
        summary: row.try_get("summary")?,
        channel: row.try_get("channel")?,
        image_kind: row.try_get("image_kind")?,
        sextortion: row.try_get::<i64, _>("sextortion")? != 0,
        exposure: row.try_get("exposure")?,
        minor_involved: row.try_get("minor_involved")?,
        municipality: row.try_get("municipality")?,
        consent: row.try_get::<i64, _>("consent")? != 0,
        reporting_organisation: row.try_get("reporting_organisation")?,
        created_at: from_ms(row.try_get("created_at")?),
    })
}

fn request_row(row: &sqlx::any::AnyRow) -> Result<RequestRecord> {
    let channel: String = row.try_get("channel")?;
    let state: String = row.try_get("state")?;
    let keywords: String = row.try_get("keywords")?;
    let answer: Option<String> = row.try_get("answer")?;
    let hashes: Option<String> = row.try_get("hashes")?;
    Ok(RequestRecord {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        platform_id: row.try_get("platform_id")?,
        channel: PlatformChannel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        trusted_flagger: row.try_get::<i64, _>("trusted_flagger")? != 0,
        url: row.try_get("url")?,
        category: row.try_get("category")?,
        keywords: serde_json::from_str(&keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        legal_ground: row.try_get("legal_ground")?,
        explanation: row.try_get("explanation")?,
        minor_involved: row.try_get("minor_involved")?,
        ai_generated: row.try_get("ai_generated")?,
        language: row.try_get("language")?,
        state: RequestState::parse(&state).ok_or_else(|| corrupt("request state", &state))?,
        drafted_at: from_ms(row.try_get("drafted_at")?),
        sent_at: opt_time(row, "sent_at")?,
        acknowledged_at: opt_time(row, "acknowledged_at")?,
        removed_at: opt_time(row, "removed_at")?,
        refused_at: opt_time(row, "refused_at")?,
        no_answer_at: opt_time(row, "no_answer_at")?,
        answer_due_at: opt_time(row, "answer_due_at")?,
        reminders: row.try_get("reminders")?,
        send_attempts: row.try_get("send_attempts")?,
        send_uncertain: row.try_get::<i64, _>("send_uncertain")? != 0,
        last_error: row.try_get("last_error")?,
        remote_notice_id: row.try_get("remote_notice_id")?,
        remote_token: row.try_get("remote_token")?,
        remote_decision_id: row.try_get("remote_decision_id")?,
        answer: answer.map(|a| serde_json::from_str(&a)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        last_synced_at: opt_time(row, "last_synced_at")?,
        url_state: row.try_get("url_state")?,
        url_checked_at: opt_time(row, "url_checked_at")?,
        offline_at: opt_time(row, "offline_at")?,
        next_check_at: opt_time(row, "next_check_at")?,
        hashes: hashes.map(|h| serde_json::from_str(&h)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

fn subject(request_id: &str) -> String {
    format!("helpline_request:{request_id}")
}

impl WriteTx {
    async fn request_for_update(&mut self, id: &str) -> Result<RequestRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        request_row(&row)
    }
}

mod cases;
mod checks;
mod figures;
mod platforms;
mod requests;
