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
     remote_token, remote_decision_id, answer, last_synced_at, url_state, url_checked_at, offline_at, next_check_at";

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

impl Store {
    /// Registers a platform. A duplicate name is a `Conflict`.
    pub async fn insert_helpline_platform(
        &self,
        id: &str,
        p: &NewPlatform,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO helpline_platforms (id, name, channel, staydown_url, api_key, email, web_form_url, \
             member_state, trusted_flagger, dsc, language, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(&p.name)
        .bind(p.channel.as_str())
        .bind(&p.staydown_url)
        .bind(&p.api_key)
        .bind(&p.email)
        .bind(&p.web_form_url)
        .bind(&p.member_state)
        .bind(i64::from(p.trusted_flagger))
        .bind(&p.digital_services_coordinator)
        .bind(p.language.as_str())
        .bind(to_ms(now))
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.platform_registered",
                subject: format!("helpline_platform:{id}"),
                detail: serde_json::json!({"channel": p.channel.as_str(), "trusted_flagger": p.trusted_flagger}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// One platform.
    pub async fn helpline_platform(&self, id: &str) -> Result<Option<PlatformRecord>> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {PLATFORM_COLUMNS} FROM helpline_platforms WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(platform_row).transpose()
    }

    /// Every platform, by name.
    pub async fn helpline_platforms(&self) -> Result<Vec<PlatformRecord>> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("SELECT {PLATFORM_COLUMNS} FROM helpline_platforms ORDER BY name")))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(platform_row).collect()
    }

    /// Opens a help case; its contact details (if any) go to the personal-data table.
    pub async fn insert_help_case(&self, id: &str, c: &NewHelpCase, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO helpline_cases (id, summary, channel, image_kind, sextortion, exposure, minor_involved, \
             municipality, consent, reporting_organisation, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(&c.summary)
        .bind(c.channel.map(|ch| ch.as_str()))
        .bind(c.image_kind.as_str())
        .bind(i64::from(c.sextortion))
        .bind(c.exposure.as_str())
        .bind(c.minor_involved.as_str())
        .bind(&c.municipality)
        .bind(i64::from(c.consent))
        .bind(&c.reporting_organisation)
        .bind(actor)
        .bind(to_ms(now))
        .execute(&mut *tx.tx)
        .await?;
        if let Some(contact) = &c.contact {
            sqlx::query(
                "INSERT INTO helpline_case_contacts (case_id, name, email, phone, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&contact.name)
            .bind(&contact.email)
            .bind(&contact.phone)
            .bind(to_ms(now))
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.case_opened",
                subject: format!("helpline_case:{id}"),
                detail: serde_json::json!({
                    "image_kind": c.image_kind.as_str(),
                    "channel": c.channel.map(|ch| ch.as_str()),
                    "contact_given": c.contact.is_some(),
                }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// One help case.
    pub async fn help_case(&self, id: &str) -> Result<Option<HelpCaseRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM helpline_cases WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_row).transpose()
    }

    /// Help cases opened in `[from, to)`, oldest first.
    pub async fn help_cases(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<HelpCaseRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM helpline_cases WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id"
        )))
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_row).collect()
    }

    /// The contact details of a help case, unless erased. Reading them is audited.
    pub async fn help_case_contact(
        &self,
        case_id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Option<HelpContact>> {
        let row = sqlx::query(
            "SELECT name, email, phone FROM helpline_case_contacts WHERE case_id = $1 AND erased_at IS NULL",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut tx = self.write().await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.contact_viewed",
                subject: format!("helpline_case:{case_id}"),
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(HelpContact { name: row.try_get("name")?, email: row.try_get("email")?, phone: row.try_get("phone")? }))
    }

    /// Erases a help case's contact details (GDPR Art. 17) and its free-text summary, keeping the
    /// case's figures and the audit chain intact (audit details never held them).
    pub async fn erase_help_case_contact(&self, case_id: &str, actor: &str, now: OffsetDateTime) -> Result<bool> {
        let mut tx = self.write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM helpline_cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let erased = sqlx::query(
            "UPDATE helpline_case_contacts SET name = NULL, email = NULL, phone = NULL, erased_at = $1 \
             WHERE case_id = $2 AND erased_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE helpline_cases SET summary = '[erased]' WHERE id = $1")
            .bind(case_id)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.contact_erased",
                subject: format!("helpline_case:{case_id}"),
                detail: serde_json::json!({"contact_rows": erased}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(erased > 0)
    }

    /// Records a referral.
    pub async fn insert_helpline_referral(
        &self,
        id: &str,
        case_id: &str,
        kind: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO helpline_referrals (id, case_id, kind, referred_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(case_id)
            .bind(kind)
            .bind(to_ms(now))
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.referred",
                subject: format!("helpline_case:{case_id}"),
                detail: serde_json::json!({"kind": kind}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Referral kinds of a case, oldest first.
    pub async fn helpline_referrals(&self, case_id: &str) -> Result<Vec<(String, OffsetDateTime)>> {
        let rows =
            sqlx::query("SELECT kind, referred_at FROM helpline_referrals WHERE case_id = $1 ORDER BY referred_at, id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok((r.try_get("kind")?, from_ms(r.try_get("referred_at")?)))).collect()
    }

    /// Stores a drafted request. For an e-mail platform the request e-mail is queued in the same
    /// transaction and the request is `sent` (the outbox delivers it durably, with retries); for
    /// a staydown platform it stays `drafted` until the worker files it; for a web form or a letter
    /// it is `sent` at once, answers recorded by the caseworker.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_helpline_request(
        &self,
        id: &str,
        case_id: &str,
        request: &NewRequest,
        platform: &PlatformRecord,
        language: &str,
        answer_due_at: OffsetDateTime,
        email: Option<serde_json::Value>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<RequestRecord> {
        let mut tx = self.write().await?;
        let case: Option<String> = sqlx::query_scalar("SELECT id FROM helpline_cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if case.is_none() {
            return Err(StoreError::NotFound);
        }
        let sent_now = platform.channel != PlatformChannel::Staydown;
        let state = if sent_now { RequestState::Sent } else { RequestState::Drafted };
        let keywords = serde_json::to_string(&request.keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO helpline_requests (id, case_id, platform_id, channel, trusted_flagger, url, category, keywords, \
             legal_ground, explanation, minor_involved, ai_generated, language, state, drafted_at, sent_at, answer_due_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $15)",
        )
        .bind(id)
        .bind(case_id)
        .bind(&platform.id)
        .bind(platform.channel.as_str())
        .bind(i64::from(platform.trusted_flagger))
        .bind(&request.url)
        .bind(&request.category)
        .bind(keywords)
        .bind(&request.legal_ground)
        .bind(&request.explanation)
        .bind(request.minor_involved.as_str())
        .bind(request.ai_generated.as_str())
        .bind(language)
        .bind(state.as_str())
        .bind(to_ms(now))
        .bind(sent_now.then(|| to_ms(now)))
        .bind(sent_now.then(|| to_ms(answer_due_at)))
        .execute(&mut *tx.tx)
        .await?;
        if let Some(payload) = email {
            tx.enqueue(NewOutboxItem {
                channel: "email",
                topic: "helpline.request",
                notice_id: None,
                payload,
                at: now,
                key: Some(id.to_owned()),
            })
            .await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.request_drafted",
                subject: subject(id),
                detail: serde_json::json!({"case": case_id, "platform": platform.id, "channel": platform.channel.as_str()}),
            },
        )
        .await?;
        if sent_now {
            tx.audit(
                now,
                AuditEvent {
                    actor,
                    action: "helpline.request_sent",
                    subject: subject(id),
                    detail: serde_json::json!({"channel": platform.channel.as_str()}),
                },
            )
            .await?;
        }
        let record = tx.request_for_update(id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// One request.
    pub async fn helpline_request(&self, id: &str) -> Result<Option<RequestRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_row).transpose()
    }

    /// Requests of a case, oldest first.
    pub async fn helpline_case_requests(&self, case_id: &str) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE case_id = $1 ORDER BY drafted_at, id"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Requests to one platform drafted in `[from, to)`, oldest first (escalation packs).
    pub async fn helpline_platform_requests(
        &self,
        platform_id: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE platform_id = $1 AND drafted_at >= $2 \
             AND drafted_at < $3 ORDER BY drafted_at, id"
        )))
        .bind(platform_id)
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Requests in `state`, oldest first, at most `limit`.
    pub async fn helpline_requests_in(&self, state: RequestState, limit: i64) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE state = $1 ORDER BY drafted_at, id LIMIT $2"
        )))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Claims a drafted staydown request for sending: only one worker gets it, never while an
    /// earlier claim is unreleased (a claim that runs out is held by `hold_abandoned_helpline_sends`,
    /// not re-claimed), and never one whose earlier send had an unknown outcome.
    pub async fn claim_helpline_send(
        &self,
        id: &str,
        now: OffsetDateTime,
        lease: std::time::Duration,
    ) -> Result<Option<RequestRecord>> {
        let mut tx = self.write().await?;
        let now_ms = to_ms(now);
        let claimed = sqlx::query(
            "UPDATE helpline_requests SET claimed_until = $1, send_attempts = send_attempts + 1, updated_at = $2 \
             WHERE id = $3 AND state = 'drafted' AND send_uncertain = 0 AND remote_notice_id IS NULL \
             AND claimed_until IS NULL",
        )
        .bind(now_ms + lease.as_millis() as i64)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let record = tx.request_for_update(id).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// Holds every drafted request whose send claim ran out without an outcome being recorded (the
    /// process stopped mid-send: the platform may have filed it). Returns how many were held.
    pub async fn hold_abandoned_helpline_sends(&self, now: OffsetDateTime) -> Result<u64> {
        let mut tx = self.write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM helpline_requests WHERE state = 'drafted' AND claimed_until IS NOT NULL AND claimed_until < $1",
        )
        .bind(to_ms(now))
        .fetch_all(&mut *tx.tx)
        .await?;
        for id in &ids {
            sqlx::query(
                "UPDATE helpline_requests SET claimed_until = NULL, send_uncertain = 1, \
                 last_error = 'the send was interrupted; it may have been filed', updated_at = $1 WHERE id = $2",
            )
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action: "helpline.send_failed",
                    subject: subject(id),
                    detail: serde_json::json!({"uncertain": true}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Records a successful filing with a staydown platform: its notice id and our tracking token
    /// there; the request is acknowledged at the platform's receipt time (Art. 16(4)).
    pub async fn record_helpline_filed(
        &self,
        id: &str,
        remote_notice_id: &str,
        remote_token: &str,
        received_at: OffsetDateTime,
        answer_due_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        transition(current.state, RequestState::Acknowledged).map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "UPDATE helpline_requests SET state = 'acknowledged', sent_at = $1, acknowledged_at = $2, answer_due_at = $3, \
             remote_notice_id = $4, remote_token = $5, claimed_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $6",
        )
        .bind(to_ms(now))
        .bind(to_ms(received_at))
        .bind(to_ms(answer_due_at))
        .bind(remote_notice_id)
        .bind(remote_token)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        for action in ["helpline.request_sent", "helpline.request_acknowledged"] {
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action,
                    subject: subject(id),
                    detail: serde_json::json!({"remote_notice": remote_notice_id}),
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Records a failed send. `uncertain` means the platform may have received it: the request is
    /// then held for the caseworker instead of being sent again.
    pub async fn record_helpline_send_failed(
        &self,
        id: &str,
        error: &str,
        uncertain: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE helpline_requests SET claimed_until = NULL, last_error = $1, send_uncertain = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(error)
        .bind(i64::from(uncertain))
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: "system",
                action: "helpline.send_failed",
                subject: subject(id),
                detail: serde_json::json!({"uncertain": uncertain}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Releases a request held after an uncertain send, so the worker sends it again — the
    /// caseworker's call, after checking with the platform that it did not arrive.
    pub async fn release_helpline_send(&self, id: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        if current.state != RequestState::Drafted || !current.send_uncertain {
            return Err(StoreError::Conflict(
                "only a drafted request held after an uncertain send can be released".into(),
            ));
        }
        sqlx::query("UPDATE helpline_requests SET send_uncertain = 0, updated_at = $1 WHERE id = $2")
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent { actor, action: "helpline.send_released", subject: subject(id), detail: serde_json::json!({}) },
        )
        .await?;
        tx.commit().await
    }

    /// Records an answer (acknowledged, removed, refused), checked against the state rules.
    /// Returns `false` when the request already has that state (a repeated sync changes nothing).
    pub async fn record_helpline_answer(&self, id: &str, a: RequestAnswer<'_>, now: OffsetDateTime) -> Result<bool> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        if current.state == a.state {
            sqlx::query("UPDATE helpline_requests SET last_synced_at = $1 WHERE id = $2")
                .bind(to_ms(now))
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        transition(current.state, a.state).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let column = match a.state {
            RequestState::Acknowledged => "acknowledged_at",
            RequestState::Removed => "removed_at",
            RequestState::Refused => "refused_at",
            RequestState::Sent => "sent_at",
            RequestState::NoAnswer => "no_answer_at",
            RequestState::Drafted => return Err(StoreError::Conflict("a request cannot go back to drafted".into())),
        };
        let answer = a.answer.as_ref().map(serde_json::Value::to_string);
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE helpline_requests SET state = $1, {column} = $2, answer = COALESCE($3, answer), \
             remote_decision_id = COALESCE($4, remote_decision_id), last_synced_at = $5, updated_at = $5, \
             acknowledged_at = CASE WHEN $6 = 1 THEN COALESCE(acknowledged_at, $2) ELSE acknowledged_at END, \
             sent_at = COALESCE(sent_at, $2) WHERE id = $7"
        )))
        .bind(a.state.as_str())
        .bind(to_ms(a.at))
        .bind(answer)
        .bind(a.decision_id)
        .bind(to_ms(now))
        .bind(i64::from(a.state.is_final()))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: a.actor,
                action: "helpline.request_answered",
                subject: subject(id),
                detail: serde_json::json!({"state": a.state.as_str(), "at": to_ms(a.at), "decision": a.decision_id}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a sync attempt (success or its error) without changing the state.
    pub async fn record_helpline_synced(&self, id: &str, error: Option<&str>, now: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE helpline_requests SET last_synced_at = $1, last_error = $2 WHERE id = $3")
            .bind(to_ms(now))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Open requests (sent, acknowledged, no answer) of one channel, oldest first.
    pub async fn helpline_open_requests(&self, channel: PlatformChannel, limit: i64) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE channel = $1 \
             AND state IN ('sent', 'acknowledged', 'no_answer') ORDER BY drafted_at, id LIMIT $2"
        )))
        .bind(channel.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Marks every request whose answer is overdue as `no_answer`, and for e-mail platforms queues
    /// a reminder (`reminder` builds its payload) in the same transaction. Returns the ids marked.
    pub async fn mark_helpline_unanswered(
        &self,
        now: OffsetDateTime,
        reminder: impl Fn(&RequestRecord) -> Option<serde_json::Value>,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE state IN ('sent', 'acknowledged') \
             AND answer_due_at IS NOT NULL AND answer_due_at <= $1 ORDER BY answer_due_at LIMIT 500"
        )))
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut marked = Vec::new();
        for row in &rows {
            let r = request_row(row)?;
            let mut tx = self.write().await?;
            let changed = sqlx::query(
                "UPDATE helpline_requests SET state = 'no_answer', no_answer_at = $1, reminders = reminders + $2, \
                 last_reminded_at = CASE WHEN $2 = 1 THEN $1 ELSE last_reminded_at END, updated_at = $1 \
                 WHERE id = $3 AND state IN ('sent', 'acknowledged')",
            )
            .bind(to_ms(now))
            .bind(i64::from(r.channel == PlatformChannel::Email))
            .bind(&r.id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            if changed == 0 {
                continue;
            }
            if r.channel == PlatformChannel::Email
                && let Some(payload) = reminder(&r)
            {
                tx.enqueue(NewOutboxItem {
                    channel: "email",
                    topic: "helpline.reminder",
                    notice_id: None,
                    payload,
                    at: now,
                    key: Some(format!("{}:{}", r.id, r.reminders + 1)),
                })
                .await?;
            }
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action: "helpline.request_unanswered",
                    subject: subject(&r.id),
                    detail: serde_json::json!({"due": r.answer_due_at.map(to_ms), "reminder": r.channel == PlatformChannel::Email}),
                },
            )
            .await?;
            tx.commit().await?;
            marked.push(r.id);
        }
        Ok(marked)
    }

    /// Requests whose URL check is due, oldest due first.
    pub async fn helpline_checks_due(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at LIMIT $2"
        )))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Schedules the next URL check of a request (`None` stops checking).
    pub async fn schedule_helpline_check(&self, id: &str, at: Option<OffsetDateTime>) -> Result<()> {
        let changed = sqlx::query("UPDATE helpline_requests SET next_check_at = $1 WHERE id = $2")
            .bind(at.map(to_ms))
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Records a URL check and schedules the next one. The first `gone` after `present` (or
    /// after none) sets `offline_at`; a `present` after `gone` (content came back) clears it and
    /// is audited as such.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_helpline_url_check(
        &self,
        id: &str,
        request_id: &str,
        state: &str,
        http_status: Option<u16>,
        detail: &str,
        next_check_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(request_id).await?;
        sqlx::query(
            "INSERT INTO helpline_url_checks (id, request_id, checked_at, state, http_status, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(request_id)
        .bind(to_ms(now))
        .bind(state)
        .bind(http_status.map(i64::from))
        .bind(detail)
        .execute(&mut *tx.tx)
        .await?;
        let offline_at = match (state, current.offline_at) {
            ("gone", None) => Some(to_ms(now)),
            ("gone", Some(at)) => Some(to_ms(at)),
            ("present", _) => None,
            (_, at) => at.map(to_ms),
        };
        sqlx::query(
            "UPDATE helpline_requests SET url_state = $1, url_checked_at = $2, offline_at = $3, next_check_at = $4 \
             WHERE id = $5",
        )
        .bind(state)
        .bind(to_ms(now))
        .bind(offline_at)
        .bind(next_check_at.map(to_ms))
        .bind(request_id)
        .execute(&mut *tx.tx)
        .await?;
        let came_back = state == "present" && current.offline_at.is_some();
        tx.audit(
            now,
            AuditEvent {
                actor: "system",
                action: if came_back { "helpline.url_back_online" } else { "helpline.url_checked" },
                subject: subject(request_id),
                detail: serde_json::json!({"check": id, "state": state, "http_status": http_status}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// URL checks of a request, oldest first.
    pub async fn helpline_url_checks(&self, request_id: &str) -> Result<Vec<UrlCheckRecord>> {
        let rows = sqlx::query(
            "SELECT id, request_id, checked_at, state, http_status, detail FROM helpline_url_checks \
             WHERE request_id = $1 ORDER BY checked_at, id",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UrlCheckRecord {
                    id: r.try_get("id")?,
                    request_id: r.try_get("request_id")?,
                    checked_at: from_ms(r.try_get("checked_at")?),
                    state: r.try_get("state")?,
                    http_status: r.try_get("http_status")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// The league table's input: every request sent in `[from, to)` with its platform.
    pub async fn helpline_league_inputs(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<LeagueInput>> {
        let rows = sqlx::query(
            "SELECT p.name, r.trusted_flagger, r.state, r.sent_at, r.removed_at FROM helpline_requests r \
             JOIN helpline_platforms p ON p.id = r.platform_id \
             WHERE r.sent_at IS NOT NULL AND r.sent_at >= $1 AND r.sent_at < $2",
        )
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(LeagueInput {
                    platform: r.try_get("name")?,
                    trusted_flagger: r.try_get::<i64, _>("trusted_flagger")? != 0,
                    state: RequestState::parse(&state).ok_or_else(|| corrupt("request state", &state))?,
                    sent_at: from_ms(r.try_get("sent_at")?),
                    removed_at: opt_time(r, "removed_at")?,
                })
            })
            .collect()
    }

    /// The helpline's figures for cases opened in `[from, to)`, all computed in SQL.
    pub async fn helpline_year_figures(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<YearFigures> {
        let (f, t) = (to_ms(from), to_ms(to));
        let grouped = |column: &'static str| {
            let sql = format!(
                "SELECT COALESCE({column}, 'unknown') AS k, COUNT(*) AS n FROM helpline_cases \
                 WHERE created_at >= $1 AND created_at < $2 GROUP BY COALESCE({column}, 'unknown') ORDER BY k"
            );
            async move {
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(f).bind(t).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
                    .collect::<Result<Vec<_>>>()
            }
        };
        let by_image_kind = grouped("image_kind").await?;
        let by_channel = grouped("channel").await?;
        let by_municipality = grouped("municipality").await?;
        let totals = sqlx::query(
            "SELECT COUNT(*) AS cases, CAST(COALESCE(SUM(sextortion), 0) AS BIGINT) AS sextortion, \
             CAST(COALESCE(SUM(CASE WHEN minor_involved = 'yes' THEN 1 ELSE 0 END), 0) AS BIGINT) AS minors \
             FROM helpline_cases WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(f)
        .bind(t)
        .fetch_one(&self.pool)
        .await?;
        let referrals = sqlx::query(
            "SELECT r.kind AS k, COUNT(*) AS n FROM helpline_referrals r JOIN helpline_cases c ON c.id = r.case_id \
             WHERE c.created_at >= $1 AND c.created_at < $2 GROUP BY r.kind ORDER BY r.kind",
        )
        .bind(f)
        .bind(t)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
        .collect::<Result<Vec<_>>>()?;
        Ok(YearFigures {
            cases: totals.try_get("cases")?,
            by_image_kind,
            by_channel,
            by_municipality,
            sextortion: totals.try_get("sextortion")?,
            minor_involved: totals.try_get("minors")?,
            referrals,
        })
    }

    /// Audit entries about one request, oldest first, and the chain head `(seq, hash)` now.
    pub async fn helpline_audit_proof(
        &self,
        request_ids: &[String],
    ) -> Result<(Vec<staydown_domain::audit::AuditEntry>, i64, String)> {
        let mut entries = Vec::new();
        for id in request_ids {
            entries.extend(self.audit_for(&subject(id)).await?);
        }
        entries.sort_by_key(|e| e.seq);
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((entries, head.try_get("seq")?, head.try_get("hash")?))
    }

    /// Records the export of an escalation pack in the audit chain.
    pub async fn audit_helpline_export(
        &self,
        actor: &str,
        platform_id: &str,
        manifest_sha256: &str,
        with_victim_details: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.pack_exported",
                subject: format!("helpline_platform:{platform_id}"),
                detail: serde_json::json!({"manifest_sha256": manifest_sha256, "victim_details": with_victim_details}),
            },
        )
        .await?;
        tx.commit().await
    }
}
