//! The relay terminates TLS itself: with a certificate from `tls self-signed` it serves the
//! app over HTTPS with HSTS and signaling over WSS, speaks TLS 1.2 and 1.3 but refuses 1.1,
//! and answers plain HTTP with a redirect to the same path over HTTPS.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sprechstunde_shared::ServerMessage;
use sprechstunde_tests::http::Reply;
use sprechstunde_tests::relay::{relay_binary, Relay};
use sprechstunde_tests::ws::JoinRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

fn connector(
    cert: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(cert)? {
        roots.add(certificate?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(versions)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn tls(connector: &TlsConnector, port: u16) -> Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    Ok(connector
        .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
        .await?)
}

/// A TLS 1.1 ClientHello (record and handshake version 3.2) offering two TLS 1.1 suites.
fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02];
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x04, 0x00, 0x2f, 0x00, 0x35]); // AES128-SHA, AES256-SHA
    body.extend([0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00, 0x00, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x02, 0x00, handshake.len() as u8];
    record.extend(handshake);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_and_wss_with_a_self_signed_certificate() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("sprechstunde-tls-test-{}", std::process::id()));
    let made = std::process::Command::new(relay_binary())
        .args([
            "tls",
            "self-signed",
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--out",
        ])
        .arg(&dir)
        .output()?;
    ensure!(made.status.success(), "tls self-signed failed: {made:?}");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));

    let https_port = sprechstunde_tests::free_port()?;
    let https = format!("127.0.0.1:{https_port}");
    let relay = Relay::start_with(&[
        "--tls-cert",
        cert.to_str().context("path")?,
        "--tls-key",
        key.to_str().context("path")?,
        "--https",
        &https,
    ])?;
    // A client that opens the HTTPS port and never says hello, and one that stops in the
    // middle of its headers on the redirect port: both are let go.
    let silent = TcpStream::connect(("127.0.0.1", https_port)).await?;
    let mut half = TcpStream::connect(relay.http).await?;
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await?;
    let opened = std::time::Instant::now();

    // HTTPS, with TLS 1.3 and with TLS 1.2.
    for (versions, name) in [
        (&[&rustls::version::TLS13][..], "TLS 1.3"),
        (&[&rustls::version::TLS12][..], "TLS 1.2"),
    ] {
        let mut stream = tls(&connector(&cert, versions)?, https_port)
            .await
            .with_context(|| format!("{name} handshake"))?;
        stream
            .write_all(b"GET /r/beratung HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut raw = Vec::new();
        // rustls reports the peer's close without close_notify as an error: keep what came.
        let _ = stream.read_to_end(&mut raw).await;
        let reply = Reply::parse(&raw)?;
        ensure!(reply.status == 200, "{name}: {}", reply.status);
        ensure!(
            reply.header("strict-transport-security") == Some("max-age=31536000"),
            "{name}: no HSTS in {:?}",
            reply.headers
        );
        ensure!(
            String::from_utf8_lossy(&reply.body).contains("Sprechstunde"),
            "{name}: not the app"
        );
    }

    // WSS: a join is welcomed, over the same certificate.
    let stream = tls(&connector(&cert, &[&rustls::version::TLS13])?, https_port).await?;
    let (mut socket, _) =
        tokio_tungstenite::client_async(format!("wss://localhost:{https_port}/ws"), stream)
            .await
            .context("WSS upgrade")?;
    let join = JoinRequest::new("sicher", "Ada").message();
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::to_string(&join)?,
        ))
        .await?;
    let welcomed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message? {
                if let ServerMessage::Welcome { .. } = serde_json::from_str(&text)? {
                    return Ok::<bool, anyhow::Error>(true);
                }
            }
        }
        Ok(false)
    })
    .await
    .context("no welcome over WSS")??;
    ensure!(welcomed, "the WSS connection closed without a welcome");

    // TLS 1.1: refused with an alert (or a close), never a ServerHello.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", https_port))?;
    raw.set_read_timeout(Some(Duration::from_secs(5)))?;
    raw.write_all(&tls11_client_hello())?;
    let mut answer = [0u8; 7];
    let read = raw.read(&mut answer).unwrap_or(0);
    if read > 0 {
        ensure!(
            answer[0] == 0x15,
            "TLS 1.1 got a record of type {:#04x}, not an alert: {:?}",
            answer[0],
            &answer[..read]
        );
        // protocol_version (70) or handshake_failure (40)
        if read == 7 {
            ensure!(matches!(answer[6], 70 | 40), "alert {:?}", &answer[..read]);
        }
    }

    // Plain HTTP: a redirect to the same path over HTTPS, and nothing of the app.
    let mut plain = std::net::TcpStream::connect(relay.http)?;
    write!(
        plain,
        "GET /r/beratung?lang=en HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
        relay.http.port()
    )?;
    let mut raw = Vec::new();
    plain.read_to_end(&mut raw)?;
    let reply = Reply::parse(&raw)?;
    ensure!(reply.status == 308, "plain HTTP: {}", reply.status);
    let location = reply.header("location").unwrap_or_default();
    ensure!(
        location == format!("https://127.0.0.1:{https_port}/r/beratung?lang=en"),
        "location {location}"
    );
    if String::from_utf8_lossy(&reply.body).contains("<script") {
        bail!("plain HTTP served the app");
    }
    for (mut stream, what) in [
        (silent, "the silent TLS client"),
        (half, "the half request"),
    ] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut byte)).await;
        ensure!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "{what} was not let go: {read:?}"
        );
    }
    let held = opened.elapsed();
    ensure!(
        held >= Duration::from_secs(5),
        "let go too early ({held:?})"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
