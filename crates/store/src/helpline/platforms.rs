//! The platform registry: how removal requests reach each platform (issue 13). A platform's API
//! key is stored as given (sealed by the server when vault keys are configured) and never shown.

use super::*;

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
}
