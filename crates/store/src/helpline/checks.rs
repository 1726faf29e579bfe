//! URL checks of removal requests: when the next is due and what each found (present, gone,
//! unknown).

use super::*;

impl Store {
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
}
