//! SMTP over TLS against a local server: STARTTLS and implicit TLS deliver with the certificate
//! checked; a certificate from another CA, or a server that does not offer STARTTLS, fails the
//! delivery — nothing is ever sent in plain text instead.

use std::sync::{Arc, Mutex};

use staydown_server::mail::{Email, Mailer, SmtpTls};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp-tls");

#[derive(Debug, Clone, Copy, PartialEq)]
enum ServerMode {
    Implicit,
    StartTls,
    PlainOnly,
}

#[derive(Debug, Default, Clone)]
struct Received {
    over_tls: bool,
    data: String,
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(format!("{FIXTURES}/cert.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/key.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A minimal SMTP server on loopback that records each message and whether it came over TLS.
async fn spawn_smtp(mode: ServerMode) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                if mode == ServerMode::Implicit {
                    if let Ok(tls) = acceptor().accept(tcp).await {
                        let _ = converse(tls, true, mode, &log).await;
                    }
                    return;
                }
                let mut stream = BufReader::new(tcp);
                if stream.get_mut().write_all(b"220 localhost ESMTP test\r\n").await.is_err() {
                    return;
                }
                let mut line = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") {
                        let offer = if mode == ServerMode::StartTls {
                            "250-localhost\r\n250 STARTTLS\r\n"
                        } else {
                            "250 localhost\r\n"
                        };
                        stream.get_mut().write_all(offer.as_bytes()).await.ok();
                    } else if upper.starts_with("STARTTLS") && mode == ServerMode::StartTls {
                        stream.get_mut().write_all(b"220 go ahead\r\n").await.ok();
                        if let Ok(tls) = acceptor().accept(stream.into_inner()).await {
                            let _ = converse(tls, false, mode, &log).await;
                        }
                        return;
                    } else {
                        // Plain text beyond EHLO: record whatever arrives, so a leak would show.
                        let _ = converse_rest(&mut stream, &line, false, &log).await;
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    greet: bool,
    _mode: ServerMode,
    log: &Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    if greet {
        stream.get_mut().write_all(b"220 localhost ESMTP test\r\n").await?;
    }
    converse_rest(&mut stream, "", true, log).await
}

async fn converse_rest<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    first: &str,
    over_tls: bool,
    log: &Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut pending = first.to_owned();
    let mut line = String::new();
    loop {
        let current = if pending.is_empty() {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            line.clone()
        } else {
            std::mem::take(&mut pending)
        };
        let upper = current.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 localhost\r\n"
        } else if upper.starts_with("DATA") {
            stream.get_mut().write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if stream.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            log.lock().unwrap().push(Received { over_tls, data });
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            stream.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        stream.get_mut().write_all(reply).await?;
    }
}

fn email() -> Email {
    Email {
        to: "notifier@example.org".into(),
        subject: "Ontvangstbevestiging".into(),
        body: "tls-canary-body".into(),
        message_id: "m-1".into(),
    }
}

fn mailer(port: u16, tls: SmtpTls, ca: &str) -> Mailer {
    let pem = std::fs::read(format!("{FIXTURES}/{ca}")).unwrap();
    Mailer::smtp("localhost", port, "staydown <noreply@staydown.test>", None, tls, Some(&pem)).unwrap()
}

#[tokio::test]
async fn starttls_and_implicit_tls_deliver_with_the_certificate_checked() {
    for (server, client) in [(ServerMode::StartTls, SmtpTls::StartTls), (ServerMode::Implicit, SmtpTls::Implicit)] {
        let (port, received) = spawn_smtp(server).await;
        mailer(port, client, "ca.pem").send(&email()).await.unwrap_or_else(|e| panic!("{server:?}: {e}"));
        let got = received.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{server:?}");
        assert!(got[0].over_tls, "{server:?}: the message went in plain text");
        assert!(got[0].data.contains("tls-canary-body"));
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_fails_the_delivery() {
    for (server, client) in [(ServerMode::StartTls, SmtpTls::StartTls), (ServerMode::Implicit, SmtpTls::Implicit)] {
        let (port, received) = spawn_smtp(server).await;
        let error = mailer(port, client, "other-ca.pem").send(&email()).await.expect_err("must not deliver");
        assert!(error.to_lowercase().contains("certificate") || error.to_lowercase().contains("tls"), "{error}");
        assert!(received.lock().unwrap().is_empty(), "{server:?}: delivered despite a bad certificate");
    }
}

#[tokio::test]
async fn a_server_without_starttls_gets_nothing_in_plain_text() {
    let (port, received) = spawn_smtp(ServerMode::PlainOnly).await;
    let error = mailer(port, SmtpTls::StartTls, "ca.pem").send(&email()).await.expect_err("must refuse");
    assert!(!error.is_empty());
    assert!(received.lock().unwrap().is_empty(), "the message was sent without TLS");
}
