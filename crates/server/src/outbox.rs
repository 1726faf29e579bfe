//! The outbox worker: delivers queued messages with retries and exponential back-off, and gives
//! up (dead letter) after a bounded number of attempts.

use std::time::Duration;

use crate::AppState;
use crate::mail::{Email, render_confirmation, render_misuse, render_texts};

/// Attempts before an item becomes a dead letter.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a claim lasts before another worker may retry the item.
const LEASE: Duration = Duration::from_secs(120);

/// Delay before attempt `attempts + 1`: 30 s, 1 min, 2 min, … capped at 6 h.
pub fn backoff(attempts: i64) -> time::Duration {
    let exp = attempts.clamp(1, 20) - 1;
    time::Duration::seconds((30_i64 << exp).min(6 * 3600))
}

/// Payload fields that are secrets (a notifier's tracking link, an uploader's appeal token).
pub const SECRET_FIELDS: [&str; 2] = ["tracking_url", "uploader_appeal_token"];
const SEALED: &str = "sealed_secrets";
const SEAL_CONTEXT: &[u8] = b"staydown outbox secret";

/// Seals the [`SECRET_FIELDS`] of a queued payload with the vault keys, when configured, so that
/// a queued message holds no usable link or token at rest (a database dump, a backup). They are
/// opened at delivery ([`open_secrets`]) and dropped once delivered. Without vault keys the
/// payload is left as is (the server warns at start).
pub fn seal_secrets(state: &AppState, payload: &mut serde_json::Value) {
    use base64::Engine as _;
    let Some(keys) = &state.settings().vault else { return };
    let Some(obj) = payload.as_object_mut() else { return };
    let mut sealed = serde_json::Map::new();
    for field in SECRET_FIELDS {
        if let Some(serde_json::Value::String(secret)) = obj.remove(field) {
            let bytes = keys.seal(secret.as_bytes(), SEAL_CONTEXT);
            sealed.insert(field.to_owned(), base64::engine::general_purpose::STANDARD.encode(bytes).into());
        }
    }
    if !sealed.is_empty() {
        obj.insert(SEALED.to_owned(), sealed.into());
    }
}

/// Opens what [`seal_secrets`] sealed, back into the payload's own fields.
///
/// # Errors
/// A text naming the field when the vault keys are missing or cannot open it.
pub fn open_secrets(state: &AppState, payload: &mut serde_json::Value) -> Result<(), String> {
    use base64::Engine as _;
    let Some(obj) = payload.as_object_mut() else { return Ok(()) };
    let Some(serde_json::Value::Object(sealed)) = obj.remove(SEALED) else { return Ok(()) };
    let keys = state.settings().vault.as_ref().ok_or("sealed secrets in the payload, but no [vault] keys")?;
    for (field, value) in sealed {
        let bytes = value
            .as_str()
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .ok_or_else(|| format!("sealed {field} is not base64"))?;
        let plain = keys.open(&bytes, SEAL_CONTEXT).map_err(|e| format!("sealed {field}: {e}"))?;
        obj.insert(field, String::from_utf8_lossy(&plain).into_owned().into());
    }
    Ok(())
}

/// Delivers every due item once. Returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> Result<usize, staydown_store::StoreError> {
    let mailer = state.mailer();
    let webhook = state.settings().webhook.as_ref();
    let mut channels = Vec::new();
    if mailer.is_configured() {
        channels.push("email");
    }
    if webhook.is_some() {
        channels.push("webhook");
    }
    let store = state.store();
    let mut delivered = 0;
    loop {
        let items = store.claim_outbox(state.now(), LEASE, 50, &channels).await?;
        if items.is_empty() {
            return Ok(delivered);
        }
        for mut item in items {
            let stored_payload = item.payload.clone();
            if let Err(error) = open_secrets(state, &mut item.payload) {
                let retry_at = (item.attempts < MAX_ATTEMPTS).then(|| state.now() + backoff(item.attempts));
                tracing::warn!(outbox_id = %item.id, %error, "cannot open a queued message's secrets");
                store.outbox_failed(&item.id, state.now(), &error, retry_at).await?;
                continue;
            }
            let result = match (item.channel.as_str(), webhook) {
                ("email", _) => {
                    let to = match &item.notice_id {
                        Some(n) => store.notifier_email(n).await?,
                        // Messages to an authority (Art. 18) name their recipient; no notifier.
                        None if item.topic == "art18.notification" => {
                            item.payload.get("to").and_then(serde_json::Value::as_str).map(str::to_owned)
                        }
                        // Helpline requests go to a platform's abuse address, carried in the payload.
                        None if item.topic.starts_with("helpline.") => item.payload["to"].as_str().map(str::to_owned),
                        None => None,
                    };
                    match (to, rendered(&item.topic, &item.payload)) {
                        // The contact was erased or never given: nothing to send, nothing to retry.
                        (None, _) => Ok(()),
                        (Some(to), Some((subject, body))) => {
                            mailer.send(&Email { to, subject, body, message_id: item.id.clone() }).await
                        }
                        (Some(_), None) => Err(format!("no template for email/{}", item.topic)),
                    }
                }
                ("webhook", Some(settings)) => {
                    let created_at = item.payload.get("at").and_then(serde_json::Value::as_i64).unwrap_or_default();
                    crate::webhook::deliver(
                        state.http(),
                        settings,
                        &item.id,
                        &item.topic,
                        created_at,
                        &item.payload,
                        state.now().unix_timestamp(),
                    )
                    .await
                }
                (channel, _) => Err(format!("no deliverer for {channel}/{}", item.topic)),
            };
            let now = state.now();
            match result {
                Ok(()) => {
                    // Links and tokens are secrets: keep them only until the message is out.
                    let mut payload = stored_payload;
                    if let Some(obj) = payload.as_object_mut() {
                        for field in SECRET_FIELDS.iter().chain(&[SEALED]) {
                            obj.remove(*field);
                        }
                    }
                    store.outbox_delivered(&item.id, now, &payload).await?;
                    delivered += 1;
                }
                Err(error) => {
                    let retry_at = (item.attempts < MAX_ATTEMPTS).then(|| now + backoff(item.attempts));
                    let error = staydown_domain::scrub::scrub(&error);
                    tracing::warn!(outbox_id = %item.id, attempts = item.attempts, %error, dead = retry_at.is_none(), "delivery failed");
                    store.outbox_failed(&item.id, now, &error, retry_at).await?;
                }
            }
        }
    }
}

/// Subject and body of an email topic.
fn rendered(topic: &str, payload: &serde_json::Value) -> Option<(String, String)> {
    match topic {
        "notice.received" => Some(render_confirmation(payload)),
        "notice.decided" | "appeal.decided" | "appeal.received" => Some(render_texts(payload)),
        "notifier.warned" | "notifier.suspended" => Some(render_misuse(topic, payload)),
        "art18.notification" => Some((
            payload.get("subject").and_then(serde_json::Value::as_str).unwrap_or("DSA Art. 18 notification").to_owned(),
            payload.get("text").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
        )),
        "helpline.request" | "helpline.reminder" => Some(crate::helpline::render_email(topic, payload)),
        _ => None,
    }
}

/// Runs `deliver_due` whenever woken and at least every few seconds, until the state shuts down.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.outbox_woken() => {}
        }
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "outbox pass failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), time::Duration::seconds(30));
        assert_eq!(backoff(2), time::Duration::seconds(60));
        assert_eq!(backoff(3), time::Duration::seconds(120));
        assert_eq!(backoff(19), time::Duration::hours(6));
    }
}
