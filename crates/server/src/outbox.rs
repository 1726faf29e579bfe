//! The outbox worker: delivers queued messages with retries and exponential back-off, and gives
//! up (dead letter) after a bounded number of attempts.

use std::time::Duration;

use crate::AppState;
use crate::mail::{Email, render_confirmation};

/// Attempts before an item becomes a dead letter.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a claim lasts before another worker may retry the item.
const LEASE: Duration = Duration::from_secs(120);

/// Delay before attempt `attempts + 1`: 30 s, 1 min, 2 min, … capped at 6 h.
pub fn backoff(attempts: i64) -> time::Duration {
    let exp = attempts.clamp(1, 20) - 1;
    time::Duration::seconds((30_i64 << exp).min(6 * 3600))
}

/// Delivers every due item once. Returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> Result<usize, staydown_store::StoreError> {
    let mailer = state.mailer();
    if !mailer.is_configured() {
        return Ok(0);
    }
    let store = state.store();
    let mut delivered = 0;
    loop {
        let items = store.claim_outbox(state.now(), LEASE, 50).await?;
        if items.is_empty() {
            return Ok(delivered);
        }
        for item in items {
            let result = match (item.channel.as_str(), item.topic.as_str()) {
                ("email", "notice.received") => {
                    let to = match &item.notice_id {
                        Some(n) => store.notifier_email(n).await?,
                        None => None,
                    };
                    match to {
                        // The contact was erased: nothing to send, nothing to retry.
                        None => Ok(()),
                        Some(to) => {
                            let (subject, body) = render_confirmation(&item.payload);
                            mailer.send(&Email { to, subject, body, message_id: item.id.clone() }).await
                        }
                    }
                }
                (channel, topic) => Err(format!("no deliverer for {channel}/{topic}")),
            };
            let now = state.now();
            match result {
                Ok(()) => {
                    // The tracking link is a secret: keep it only until the message is out.
                    let mut payload = item.payload.clone();
                    if let Some(obj) = payload.as_object_mut() {
                        obj.remove("tracking_url");
                    }
                    store.outbox_delivered(&item.id, now, &payload).await?;
                    delivered += 1;
                }
                Err(error) => {
                    let retry_at = (item.attempts < MAX_ATTEMPTS).then(|| now + backoff(item.attempts));
                    tracing::warn!(outbox_id = %item.id, attempts = item.attempts, %error, dead = retry_at.is_none(), "delivery failed");
                    store.outbox_failed(&item.id, now, &error, retry_at).await?;
                }
            }
        }
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
