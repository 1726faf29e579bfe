//! The league table's inputs, the yearly figures and the escalation pack's audit proof (issue 13).

use super::*;

impl Store {
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
