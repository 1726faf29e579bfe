//! Messages to notifiers (confirmation of receipt, DSA Art. 16(4)) and how they are sent.
//!
//! Texts are rendered at delivery from the outbox payload, in the notifier's language. The
//! recipient's address is read from the personal-data table at delivery time, so an erased contact
//! is never written to.

use crate::pages::Lang;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Stable id (the outbox item id), for de-duplication by the receiver.
    pub message_id: String,
}

/// Mail kept by the in-memory mailer.
pub type SentMail = Arc<Mutex<Vec<Email>>>;
/// Number of upcoming sends the in-memory mailer fails.
pub type FailNext = Arc<Mutex<u32>>;

/// How email leaves the system.
#[derive(Clone)]
pub enum Mailer {
    /// Not configured: email items stay queued until a mailer is configured.
    None,
    /// Written as `.eml` files into a folder (development, demos).
    Folder(PathBuf),
    /// Sent through an SMTP relay.
    Smtp {
        /// Transport (boxed: it is large next to the other variants).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// From address.
        from: Mailbox,
    },
    /// Kept in memory (tests). `fail_next` makes the next deliveries fail with an SMTP-like rejection
    /// that names the recipient, as real servers do.
    Memory {
        /// Sent mail.
        sent: Arc<Mutex<Vec<Email>>>,
        /// Number of upcoming sends to fail.
        fail_next: Arc<Mutex<u32>>,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mailer::None => "Mailer::None",
            Mailer::Folder(_) => "Mailer::Folder",
            Mailer::Smtp { .. } => "Mailer::Smtp",
            Mailer::Memory { .. } => "Mailer::Memory",
        })
    }
}

/// The sender written into `.eml` files of the folder mailer (development and demos): the
/// reserved `.invalid` domain (RFC 2606), so nobody answers a demo mail by mistake.
const FOLDER_FROM: &str = "staydown demo <noreply@staydown.invalid>";

/// The message for `email` from `from`: a plain-text UTF-8 body, `Date` now, the outbox's id as
/// `Message-ID` (so a resend after a crash is recognisable as the same mail).
fn message(from: Mailbox, email: &Email) -> Result<Message, String> {
    let to: Mailbox = email.to.parse().map_err(|e| format!("recipient: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(&email.subject)
        .message_id(Some(format!("<{}@staydown>", email.message_id)))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| e.to_string())
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP, for a relay on the same host or a trusted network only.
    None,
    /// Upgrade with STARTTLS (RFC 3207) and refuse to send if the server does not offer it.
    StartTls,
    /// TLS from the first byte ("implicit TLS", RFC 8314; usually port 465).
    Implicit,
}

impl Mailer {
    /// An SMTP mailer. With TLS the server's certificate is checked against the Mozilla roots
    /// compiled in (webpki-roots) plus `extra_root_pem` (a private CA), and its name against
    /// `host`; a failed check fails the delivery (the outbox retries), never falls back to plain.
    ///
    /// # Errors
    /// A text naming the setting when `from` is not a mailbox or the CA file is not PEM.
    pub fn smtp(
        host: &str,
        port: u16,
        from: &str,
        credentials: Option<(String, String)>,
        tls: SmtpTls,
        extra_root_pem: Option<&[u8]>,
    ) -> Result<Self, String> {
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        let from: Mailbox = from.parse().map_err(|e| format!("email.from `{from}`: {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
        if tls != SmtpTls::None {
            let mut params = TlsParameters::builder(host.to_owned());
            if let Some(pem) = extra_root_pem {
                let cert = Certificate::from_pem(pem).map_err(|e| format!("email.ca_file: {e}"))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| format!("email TLS: {e}"))?;
            builder = builder.tls(if tls == SmtpTls::Implicit { Tls::Wrapper(params) } else { Tls::Required(params) });
        }
        if let Some((user, pass)) = credentials {
            builder = builder.credentials(Credentials::new(user, pass));
        }
        Ok(Mailer::Smtp { transport: Box::new(builder.build()), from })
    }

    /// An in-memory mailer and its handles: the sent mail, and how many upcoming sends to fail.
    pub fn memory() -> (Self, SentMail, FailNext) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(Mutex::new(0));
        (Mailer::Memory { sent: sent.clone(), fail_next: fail.clone() }, sent, fail)
    }

    /// Whether email can be delivered at all.
    pub fn is_configured(&self) -> bool {
        !matches!(self, Mailer::None)
    }

    /// Sends one email.
    pub async fn send(&self, email: &Email) -> Result<(), String> {
        match self {
            Mailer::None => Err("no mailer configured".into()),
            Mailer::Folder(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
                let name = email.message_id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
                // The message as SMTP would carry it (From, Date, MIME headers, the UTF-8 body
                // encoded), so a mail client opens the file as it would the real e-mail.
                let from: Mailbox = FOLDER_FROM.parse().map_err(|e| format!("sender: {e}"))?;
                let message = message(from, email)?;
                tokio::fs::write(dir.join(format!("{name}.eml")), message.formatted()).await.map_err(|e| e.to_string())
            }
            Mailer::Smtp { transport, from } => {
                let message = message(from.clone(), email)?;
                transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
            }
            Mailer::Memory { sent, fail_next } => {
                {
                    let mut fail = fail_next.lock().map_err(|_| "poisoned")?;
                    if *fail > 0 {
                        *fail -= 1;
                        // Worded like a real SMTP rejection, which names the recipient.
                        return Err(format!(
                            "simulated delivery failure: permanent error (550): 5.1.1 <{}>: Recipient address rejected",
                            email.to
                        ));
                    }
                }
                sent.lock().map_err(|_| "poisoned")?.push(email.clone());
                Ok(())
            }
        }
    }
}

/// The language of a payload (`language`: `nl` or `en`; English when absent).
fn language(payload: &serde_json::Value) -> Lang {
    payload.get("language").and_then(|v| v.as_str()).and_then(Lang::parse).unwrap_or(Lang::En)
}

/// Renders the confirmation of receipt (DSA Art. 16(4)) from its outbox payload, in the
/// notifier's language from the catalogues (`locales/{en,nl}/mail.ftl`).
pub fn render_confirmation(payload: &serde_json::Value) -> (String, String) {
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let (id, url) = (text("notice_id"), text("tracking_url"));
    let lang = language(payload);
    let body = format!(
        "{}\n\n{}\n{}\n{url}\n\n{}\n{}\n",
        lang.t("mail-received-thanks"),
        lang.ta("mail-received-number", &[("id", &id)]),
        lang.t("mail-received-follow"),
        lang.t("mail-received-keep"),
        lang.t("mail-help"),
    );
    (lang.t("mail-received-subject"), body)
}

/// Renders a decision notice (Art. 16(5)) or an appeal outcome: the payload carries both
/// languages, pre-rendered when the decision was taken.
pub fn render_texts(payload: &serde_json::Value) -> (String, String) {
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let nl = text("language") == "nl";
    let subject = if nl { text("subject_nl") } else { text("subject_en") };
    let body = if nl { text("text_nl") } else { text("text_en") };
    (subject, body)
}

/// Renders an Art. 23(2) warning or suspension, in the notifier's language from the catalogues.
pub fn render_misuse(topic: &str, payload: &serde_json::Value) -> (String, String) {
    let reason = payload.get("reason").and_then(|v| v.as_str()).unwrap_or_default();
    let until = payload
        .get("until")
        .and_then(serde_json::Value::as_i64)
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    let lang = language(payload);
    if topic == "notifier.warned" {
        let body =
            format!("{}\n\n{}\n", lang.ta("mail-warned-reason", &[("reason", reason)]), lang.t("mail-warned-next"));
        (lang.t("mail-warned-subject"), body)
    } else {
        let body = format!(
            "{}\n{}\n",
            lang.ta("mail-suspended-until", &[("until", &until)]),
            lang.ta("mail-suspended-reason", &[("reason", reason)])
        );
        (lang.t("mail-suspended-subject"), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The notifier's messages come from the catalogues in their language, with the details the
    /// payload carries filled in, and no placeholder left.
    #[test]
    fn notifier_messages_are_written_in_the_notifiers_language() {
        let receipt = serde_json::json!({"language": "nl", "notice_id": "n-1", "tracking_url": "https://s.test/track/n-1?token=t"});
        let (subject, body) = render_confirmation(&receipt);
        assert_eq!(subject, "We hebben uw melding ontvangen");
        assert!(
            body.contains("Nummer van uw melding: n-1") && body.contains("\nhttps://s.test/track/n-1?token=t\n"),
            "{body}"
        );
        let warned = serde_json::json!({"language": "en", "reason": "three unfounded reports"});
        let (subject, body) = render_misuse("notifier.warned", &warned);
        assert_eq!(subject, "A warning about your reports");
        assert!(body.contains("manifestly unfounded: three unfounded reports."), "{body}");
        let suspended = serde_json::json!({"language": "nl", "reason": "x", "until": 1_767_225_600});
        let (subject, body) = render_misuse("notifier.suspended", &suspended);
        assert_eq!(subject, "Uw meldingen worden tijdelijk niet behandeld");
        assert!(body.contains("tot 2026-01-01 niet") && body.contains("Reden: x."), "{body}");
        for text in [&subject, &body] {
            assert!(!text.contains('{') && !text.contains("mail-"), "{text}");
        }
    }

    /// A demo `.eml` file is a whole message: sender, date, MIME type and charset, the subject and
    /// the Dutch body encoded so that a mail client shows "ë" and "€" as written.
    #[tokio::test]
    async fn the_folder_mailer_writes_messages_a_mail_client_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let email = Email {
            to: "noor@example.org".into(),
            subject: "Besluit over uw melding".into(),
            body: "Uw melding is beoordeeld: één maatregel, kosteloos (€ 0).".into(),
            message_id: "outbox-42".into(),
        };
        Mailer::Folder(dir.path().to_owned()).send(&email).await.expect("written");
        let text = std::fs::read_to_string(dir.path().join("outbox-42.eml")).expect("the file");
        for header in ["From: ", "To: noor@example.org", "Date: ", "Message-ID: <outbox-42@staydown>"] {
            assert!(text.contains(header), "{header}: {text}");
        }
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"), "{text}");
        assert!(text.contains("noreply@staydown.invalid"), "{text}");
        let (_, body) = text.split_once("\r\n\r\n").expect("headers, then the body");
        let decoded = match text.contains("Content-Transfer-Encoding: base64") {
            true => {
                use base64::Engine;
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).expect("base64"))
                    .expect("utf-8")
            }
            false => body.to_owned(),
        };
        assert!(decoded.contains("één maatregel") || text.contains("quoted-printable"), "{text}");
    }
}
