//! Raw HTTP/1.0 exchanges, for checking exactly what the relay sends (headers, encodings,
//! redirects) without a client library that would follow or unpack anything.

use anyhow::{Context, Result};

pub struct Reply {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A whole response as read from the socket until it closed.
    pub fn parse(raw: &[u8]) -> Result<Reply> {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .context("no end of headers")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .context("no status")?;
        Ok(Reply {
            status,
            headers: lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect(),
            body: raw[split + 4..].to_vec(),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` over plain TCP with HTTP/1.0 (the server closes after the response).
pub fn get(address: std::net::SocketAddr, path: &str, extra_headers: &str) -> Result<Reply> {
    send(address, "GET", path, extra_headers, "")
}

/// Any request over plain TCP with HTTP/1.0; a non-empty `body` goes as JSON.
pub fn send(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    extra_headers: &str,
    body: &str,
) -> Result<Reply> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(5))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let content = if body.is_empty() && method == "GET" {
        String::new()
    } else {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    };
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\n{extra_headers}{content}\r\n{body}"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Reply::parse(&raw)
}
