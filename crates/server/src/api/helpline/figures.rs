//! The league table, the yearly figures and the escalation pack for the ACM or the Autoriteit
//! Persoonsgegevens.

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    /// Escalation packs only: include the victim's contact details and the case summaries.
    #[serde(default)]
    victim_details: bool,
}

/// `from`/`to` as RFC 3339 or `YYYY-MM-DD` (UTC midnight); defaults: the epoch and now.
pub(super) fn period(q: &PeriodQuery, now: OffsetDateTime) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let mut parse = |field: &str, v: Option<&str>, default: OffsetDateTime| -> OffsetDateTime {
        let Some(v) = v else { return default };
        if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
            return t;
        }
        let date = time::Date::parse(v, &time::macros::format_description!("[year]-[month]-[day]"));
        match date {
            Ok(d) => d.midnight().assume_utc(),
            Err(_) => {
                errors.push(field, "invalid", "an RFC 3339 timestamp or a date YYYY-MM-DD");
                default
            }
        }
    };
    let from = parse("from", q.from.as_deref(), OffsetDateTime::UNIX_EPOCH);
    let to = parse("to", q.to.as_deref(), now + time::Duration::seconds(1));
    if from >= to && errors.0.is_empty() {
        errors.push("to", "before_from", "must be after `from`");
    }
    errors.into_result((from, to)).map_err(ApiError::Validation)
}

pub(super) async fn league(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Vec<staydown_domain::helpline::league::LeagueRow>>, ApiError> {
    caller.require(Permission::ViewHelplineFigures)?;
    let (from, to) = period(&q, state.now())?;
    let inputs = state.store().helpline_league_inputs(from, to).await?;
    Ok(Json(league_table(&inputs)))
}

pub(super) async fn figures(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewHelplineFigures)?;
    let (from, to) = period(&q, state.now())?;
    Ok(Json(figures_json(&state, from, to).await?))
}

/// The yearly figures over `[from, to)`: cases by kind, channel and municipality, referrals,
/// requests sent, honoured, refused, unanswered, median and p90 hours to removal. No personal data.
pub async fn figures_json(
    state: &AppState,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<serde_json::Value, ApiError> {
    let store = state.store();
    let year = store.helpline_year_figures(from, to).await?;
    let rows = league_table(&store.helpline_league_inputs(from, to).await?);
    let inputs = store.helpline_league_inputs(from, to).await?;
    let mut hours: Vec<f64> = inputs
        .iter()
        .filter(|i| i.state == RequestState::Removed)
        .filter_map(|i| i.removed_at.map(|r| (r - i.sent_at).as_seconds_f64().max(0.0) / 3600.0))
        .collect();
    hours.sort_by(f64::total_cmp);
    let pairs = |v: &[(String, i64)]| {
        v.iter().map(|(k, n)| (k.clone(), serde_json::Value::from(*n))).collect::<serde_json::Map<_, _>>()
    };
    Ok(serde_json::json!({
        "from": rfc3339(from),
        "to": rfc3339(to),
        "cases": year.cases,
        "by_image_kind": pairs(&year.by_image_kind),
        "by_channel": pairs(&year.by_channel),
        "by_municipality": pairs(&year.by_municipality),
        "sextortion": year.sextortion,
        "minor_involved": year.minor_involved,
        "referrals": pairs(&year.referrals),
        "requests_sent": rows.iter().map(|r| r.requests).sum::<u64>(),
        "honoured": rows.iter().map(|r| r.honoured).sum::<u64>(),
        "refused": rows.iter().map(|r| r.refused).sum::<u64>(),
        "unanswered": rows.iter().map(|r| r.unanswered).sum::<u64>(),
        "median_hours_to_removal": staydown_domain::helpline::league::median(&hours),
        "p90_hours_to_removal": staydown_domain::helpline::league::nearest_rank(&hours, 90),
    }))
}

/// Builds the escalation pack for one platform over a period: a ZIP of `requests.json`,
/// `url_checks.json`, `audit.json` (the audit entries of those requests with their hashes and the
/// chain head, so each entry's hash can be recomputed) and `manifest.json` naming every other
/// file's SHA-256. Victim details (case summaries, contact details) only when asked for.
pub async fn build_pack(
    state: &AppState,
    platform_id: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    victim_details: bool,
    actor: &str,
) -> Result<(Vec<u8>, String), ApiError> {
    let store = state.store();
    let platform = store.helpline_platform(platform_id).await?.ok_or(ApiError::NotFound)?;
    let now = state.now();
    let records = store.helpline_platform_requests(platform_id, from, to).await?;
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut checks = Vec::new();
    for id in &ids {
        for c in store.helpline_url_checks(id).await? {
            checks.push(serde_json::json!({
                "request_id": c.request_id, "checked_at": rfc3339(c.checked_at), "state": c.state,
                "http_status": c.http_status, "detail": c.detail,
            }));
        }
    }
    let mut requests = Vec::new();
    let mut case_ids: Vec<String> = Vec::new();
    for r in records {
        if !case_ids.contains(&r.case_id) {
            case_ids.push(r.case_id.clone());
        }
        requests.push(request_view(r));
    }
    let mut victims = Vec::new();
    if victim_details {
        for case_id in &case_ids {
            let case = store.help_case(case_id).await?;
            let contact = store.help_case_contact(case_id, actor, now).await?;
            victims.push(serde_json::json!({
                "case_id": case_id,
                "summary": case.map(|c| c.summary),
                "contact": contact.map(|c| serde_json::json!({"name": c.name, "email": c.email, "phone": c.phone})),
            }));
        }
    }
    let (entries, head_seq, head_hash) = store.helpline_audit_proof(&ids).await?;
    let audit = serde_json::json!({
        "hash": "SHA-256 over prev_hash, seq and at_ms (big-endian i64) and the length-prefixed actor, action, subject, detail (domain::audit::entry_hash)",
        "head": {"seq": head_seq, "hash": head_hash},
        "entries": entries.iter().map(|e| serde_json::json!({
            "seq": e.seq, "at_ms": e.at_ms, "actor": e.actor, "action": e.action, "subject": e.subject,
            "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash,
        })).collect::<Vec<_>>(),
    });
    let platform_json = serde_json::json!({
        "name": platform.name, "channel": platform.channel.as_str(), "member_state": platform.member_state,
        "trusted_flagger": platform.trusted_flagger, "digital_services_coordinator": platform.dsc,
        "staydown_url": platform.staydown_url, "email": platform.email, "web_form_url": platform.web_form_url,
    });
    let pretty = |v: &serde_json::Value| serde_json::to_vec_pretty(v).map_err(|e| ApiError::Internal(e.to_string()));
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("platform.json", pretty(&platform_json)?),
        ("requests.json", pretty(&serde_json::to_value(&requests).map_err(|e| ApiError::Internal(e.to_string()))?)?),
        ("url_checks.json", pretty(&serde_json::Value::from(checks))?),
        ("audit.json", pretty(&audit)?),
    ];
    if victim_details {
        files.push(("victim_details.json", pretty(&serde_json::Value::from(victims))?));
    }
    let manifest = serde_json::json!({
        "kind": "staydown helpline escalation pack",
        "platform": platform.name,
        "from": rfc3339(from),
        "to": rfc3339(to),
        "generated_at": rfc3339(now),
        "victim_details": victim_details,
        "requests": ids.len(),
        "audit_head": {"seq": head_seq, "hash": head_hash},
        "files": files.iter().map(|(name, bytes)| serde_json::json!({
            "name": name, "bytes": bytes.len(), "sha256": hex::encode(Sha256::digest(bytes)),
        })).collect::<Vec<_>>(),
    });
    let manifest_bytes = pretty(&manifest)?;
    let manifest_sha = hex::encode(Sha256::digest(&manifest_bytes));
    files.push(("manifest.json", manifest_bytes));
    let zip_err = |e: zip::result::ZipError| ApiError::Internal(format!("zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    if let Ok(t) = zip::DateTime::try_from(time::PrimitiveDateTime::new(now.date(), now.time())) {
        options = options.last_modified_time(t);
    }
    for (name, bytes) in &files {
        zip.start_file(*name, options).map_err(zip_err)?;
        zip.write_all(bytes).map_err(|e| ApiError::Internal(format!("zip: {e}")))?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    store.audit_helpline_export(actor, platform_id, &manifest_sha, victim_details, now).await?;
    Ok((bytes, manifest_sha))
}

pub(super) async fn pack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let (from, to) = period(&q, state.now())?;
    let (bytes, _) = build_pack(&state, &id, from, to, q.victim_details, &caller.principal()).await?;
    let name = format!("escalation-{id}.zip");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
