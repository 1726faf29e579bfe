//! Signed action webhooks to the platform's own systems: `content.remove`, `content.restrict`,
//! `content.restore`, `account.suspend`, `account.reinstate`, `appeal.decided`.
//!
//! The platform carries out what a decision (DSA Art. 17) or an appeal (Art. 20) requires. Each
//! delivery is a `POST` of JSON `{"id", "type", "created_at", "data"}` with headers
//! `Staydown-Event`, `Staydown-Delivery` (the stable id: retries repeat it, so the receiver can
//! apply each event exactly once) and `Staydown-Signature: t=<unix seconds>,v1=<hex>` where `v1`
//! is HMAC-SHA256 over `"<t>.<body>"` with the shared secret. Receivers should reject signatures
//! older than a few minutes (replay) and compare in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::WebhookSettings;

/// Computes the `Staydown-Signature` header value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body)))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a `Staydown-Signature` header (for receivers written in Rust, and for the tests).
pub fn verify(secret: &str, header: &str, body: &[u8], now_unix: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(given)) = (timestamp, given) else { return false };
    if (now_unix - t).abs() > tolerance_secs {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Sends one delivery. Any non-2xx answer or transport error is a failure to retry.
pub async fn deliver(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    delivery_id: &str,
    topic: &str,
    created_at: i64,
    data: &serde_json::Value,
    now_unix: i64,
) -> Result<(), String> {
    let body = serde_json::to_vec(&serde_json::json!({
        "id": delivery_id,
        "type": topic,
        "created_at": created_at,
        "data": data,
    }))
    .map_err(|e| e.to_string())?;
    let response = client
        .post(&settings.url)
        .header("content-type", "application/json")
        .header("staydown-event", topic)
        .header("staydown-delivery", delivery_id)
        .header("staydown-signature", signature(&settings.secret, now_unix, &body))
        .timeout(std::time::Duration::from_secs(15))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("webhook transport error: {e}"))?;
    if response.status().is_success() { Ok(()) } else { Err(format!("webhook answered {}", response.status())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let sig = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(verify("s3cret", &sig, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &sig, b"{\"a\":2}", 1_700_000_010, 300));
        assert!(!verify("other", &sig, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &sig, b"{\"a\":1}", 1_700_001_000, 300), "too old");
        assert!(!verify("s3cret", "garbage", b"{\"a\":1}", 1_700_000_010, 300));
    }
}
