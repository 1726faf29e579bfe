//! The one scrubber of personal data and secrets for error texts that are stored or logged.
//!
//! Error texts come from outside: an SMTP server's rejection names the recipient
//! (`550 5.1.1 <eve@example.org>: Recipient address rejected`), an HTTP client's error names the
//! URL with its query, an API's 422 body echoes what it was sent. Such texts reach
//! `outbox.last_error`, the Transparency Database queue and the log. GDPR Art. 5(1)(c) (data
//! minimisation) says they must not carry personal data there, so every such text passes through
//! [`scrub`] first: the store applies it before writing an error column, the workers before logging.
//!
//! What is replaced: e-mail addresses (`[email]`), the query and fragment of URLs (`?[redacted]`),
//! values of `token=`/`key=`/`secret=`/`password=`-like parameters, `Bearer` credentials, and any
//! long run of token characters (24 or more letters, digits, `-`, `_`, `+`, `/`, `=` with both letters
//! and digits: API keys, tracking tokens, digests) (`[token]`). Everything else is kept, so the text
//! still says what went wrong.

const DELIMITERS: &[char] = &['<', '>', '(', ')', '[', ']', '{', '}', '"', '\'', ',', ';', '`'];
const SECRET_PARAMETERS: &[&str] = &["token", "key", "secret", "password", "passwd", "sig", "signature", "auth"];

/// Returns `text` with e-mail addresses, URL queries, secret parameters and token-like strings
/// replaced (see the module docs). Idempotent.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut segment = String::new();
    let mut after_bearer = false;
    for c in text.chars() {
        if c.is_whitespace() || DELIMITERS.contains(&c) {
            flush(&mut segment, &mut out, &mut after_bearer);
            out.push(c);
        } else {
            segment.push(c);
        }
    }
    flush(&mut segment, &mut out, &mut after_bearer);
    out
}

fn flush(segment: &mut String, out: &mut String, after_bearer: &mut bool) {
    if segment.is_empty() {
        return;
    }
    let word = std::mem::take(segment);
    if *after_bearer {
        *after_bearer = false;
        out.push_str("[token]");
        return;
    }
    if word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic") {
        *after_bearer = true;
        out.push_str(&word);
        return;
    }
    out.push_str(&scrub_word(&word));
}

fn scrub_word(word: &str) -> String {
    if is_email(word) {
        return "[email]".to_owned();
    }
    let lower = word.to_ascii_lowercase();
    if (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("smtp://"))
        && let Some(cut) = word.find(['?', '#'])
        && cut + 1 < word.len()
    {
        return format!("{}?[redacted]", scrub_word(&word[..cut]));
    }
    if let Some((name, _value)) = word.split_once('=') {
        let name_lower = name.trim_start_matches(['&', '?']).to_ascii_lowercase();
        if SECRET_PARAMETERS.iter().any(|p| name_lower == *p || name_lower.ends_with(&format!("_{p}"))) {
            return format!("{name}=[redacted]");
        }
    }
    if word.contains('@') {
        // `to=eve@example.org`, `mailto:eve@example.org`, `RCPT TO:<…>` parts.
        if let Some(at) = word.rfind(['=', ':']) {
            let (head, tail) = word.split_at(at + 1);
            if is_email(tail) {
                return format!("{head}[email]");
            }
        }
    }
    if is_token(word) {
        return "[token]".to_owned();
    }
    word.to_owned()
}

fn is_email(word: &str) -> bool {
    let word = word.trim_end_matches(['.', ':']);
    let Some((local, domain)) = word.rsplit_once('@') else { return false };
    !local.is_empty()
        && !local.contains(['=', ':', '/'])
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn is_token(word: &str) -> bool {
    let body = word.trim_end_matches(['.', ':']);
    // Record ids (UUIDs) are not secrets and operators need them to find the row.
    let is_uuid = body.len() == 36
        && body
            .char_indices()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() });
    !is_uuid
        && body.len() >= 24
        && body.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '='))
        && body.chars().any(|c| c.is_ascii_digit())
        && body.chars().any(|c| c.is_ascii_alphabetic())
        && !body.contains("//")
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn smtp_rejections_lose_the_address_and_keep_the_reason() {
        assert_eq!(
            scrub("permanent error (550): 5.1.1 <eve.victim@example.org>: Recipient address rejected"),
            "permanent error (550): 5.1.1 <[email]>: Recipient address rejected"
        );
        assert_eq!(scrub("RCPT TO:eve@example.org refused"), "RCPT TO:[email] refused");
    }

    #[test]
    fn urls_tokens_and_credentials_are_cut() {
        assert_eq!(
            scrub("error sending request for url (https://hooks.example/x?token=abc&u=eve): connection refused"),
            "error sending request for url (https://hooks.example/x?[redacted]): connection refused"
        );
        let key = "sd_0195d1c2_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
        assert_eq!(scrub(&format!("Authorization: Bearer {key}")), "Authorization: Bearer [token]");
        assert_eq!(scrub(&format!("unknown key {key}")), "unknown key [token]");
        assert_eq!(scrub("token=3f2a9c secret=hunter2 page=2"), "token=[redacted] secret=[redacted] page=2");
        assert_eq!(
            scrub(r#"{"errors":{"puid":["taken"]},"user":"eve@example.org"}"#),
            r#"{"errors":{"puid":["taken"]},"user":"[email]"}"#
        );
    }

    #[test]
    fn ordinary_error_text_is_kept_and_scrubbing_is_idempotent() {
        let plain = "webhook answered 503 Service Unavailable; retry in 30 s (attempt 2/10)";
        assert_eq!(scrub(plain), plain);
        let with_id = "statement 0195d1c2-9f8e-7d6c-b5a4-39281706f5e4 refused";
        assert_eq!(scrub(with_id), with_id);
        let once = scrub("to <a@b.example> at https://x.example/p?q=1 with 0123456789abcdef0123456789abcdef");
        assert_eq!(scrub(&once), once);
        assert!(!once.contains("a@b.example") && !once.contains("q=1") && !once.contains("0123456789abcdef"));
    }
}
