//! HTTPS terminated by the relay: rustls with TLS 1.2 and 1.3 only, a redirect from plain
//! HTTP, and `tls self-signed` for a LAN test with the office tablets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use clap::Subcommand;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What browsers are told once they reached us over HTTPS: a year, this host only.
pub const HSTS: &str = "max-age=31536000";

/// A server configuration from PEM files: TLS 1.2 and 1.3 (no older version exists in
/// rustls), HTTP/1.1 only (WebSocket upgrades need it).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid certificate file {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the key do not belong together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every plain-HTTP request goes to the same path on the HTTPS port.
pub async fn redirect(https_port: u16, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // Without the port: `[::1]:8080` keeps its brackets, `name:8080` loses `:8080`.
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    if name.is_empty() {
        return (StatusCode::BAD_REQUEST, "Host fehlt / Host missing").into_response();
    }
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let location = if https_port == 443 {
        format!("https://{name}{path}")
    } else {
        format!("https://{name}:{https_port}{path}")
    };
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

#[derive(Subcommand)]
pub enum TlsCommand {
    /// Make a self-signed certificate and key for a test on the office LAN (tablets must
    /// accept it once). Not for production: use a certificate from a CA there.
    SelfSigned {
        /// Names and IP addresses the tablets use to reach the relay (repeatable).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// Directory for `cert.pem` and `key.pem`.
        #[arg(long, default_value = "data/tls")]
        out: PathBuf,
    },
}

pub fn command(command: TlsCommand) -> anyhow::Result<()> {
    match command {
        TlsCommand::SelfSigned { hosts, out } => {
            let (cert, key) = self_signed(&hosts, &out)?;
            println!(
                "Zertifikat / certificate: {}\nSchlüssel / key: {}\n\nIn the configuration:\ntls_cert = \"{}\"\ntls_key = \"{}\"",
                cert.display(),
                key.display(),
                cert.display(),
                key.display()
            );
            Ok(())
        }
    }
}

/// Write a new self-signed pair for `hosts` into `dir`; the key is readable by its owner only.
pub fn self_signed(hosts: &[String], dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let generated = rcgen::generate_simple_self_signed(hosts.to_vec())
        .context("cannot make the certificate (are the host names valid?)")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem())?;
    write_private(&key, generated.signing_key.serialize_pem().as_bytes())?;
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// Where HTTPS listens when only the HTTP address is configured: the same IP, port 8443.
pub fn default_https(http: SocketAddr) -> SocketAddr {
    SocketAddr::new(http.ip(), 8443)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_loads_and_its_key_is_private() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sprechstunde-tls-{}", std::process::id()));
        let (cert, key) = self_signed(&["localhost".into(), "192.168.1.10".into()], &dir)?;
        server_config(&cert, &key)?;
        assert_eq!(std::fs::metadata(&key)?.permissions().mode() & 0o777, 0o600);
        // A key that is not this certificate's is refused with a clear message.
        let other = dir.join("other");
        let (_, other_key) = self_signed(&["localhost".into()], &other)?;
        let error = server_config(&cert, &other_key)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(error.contains("do not belong together"), "{error}");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[tokio::test]
    async fn plain_http_is_sent_to_the_same_path_over_https() {
        let request = |host: &str| {
            Request::builder()
                .uri("/r/beratung?x=1")
                .header(header::HOST, host)
                .body(axum::body::Body::empty())
                .expect("request")
        };
        for (host, port, expected) in [
            (
                "schule.example:8080",
                8443,
                "https://schule.example:8443/r/beratung?x=1",
            ),
            (
                "schule.example",
                443,
                "https://schule.example/r/beratung?x=1",
            ),
            ("[::1]:8080", 8443, "https://[::1]:8443/r/beratung?x=1"),
        ] {
            let response = redirect(port, request(host)).await;
            assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
            assert_eq!(
                response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok()),
                Some(expected)
            );
        }
        let response = redirect(8443, request("")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
