//! Help cases, the personal data of the person helped (kept apart, erasable) and referrals
//! (issue 13).

use super::*;

impl Store {
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
}
