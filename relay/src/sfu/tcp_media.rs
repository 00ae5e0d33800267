//! ICE over TCP on the web port (RFC 6544 passive candidates, RFC 4571 framing): for a family
//! whose network lets nothing through but TCP to the port the page came from. The HTTP
//! server hands over a connection whose first bytes are a framed STUN message
//! ([`looks_like_framed_stun`]); its frames go into the same SFU loop as UDP datagrams, and
//! what the loop sends to its address goes back framed.
//!
//! A connection that no participant claims (the loop sends nothing back within
//! [`UNCLAIMED_TIMEOUT`]), that sends a frame of an impossible size, or that stays silent
//! for [`IDLE_TIMEOUT`] is closed. It holds its place in the HTTP server's per-address limit
//! for as long as it lives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::io::Inbox;

/// Largest frame accepted. Media packets stay under the 1,200-byte MTU str0m aims at; STUN
/// and DTLS records do too. Anything larger is not from a browser.
pub const MAX_FRAME: usize = 1600;
/// Frames waiting to be written to one connection; more are dropped (media may drop).
const OUTGOING_FRAMES: usize = 512;
/// A connection must be answered by the loop (its STUN check accepted) within this time.
pub const UNCLAIMED_TIMEOUT: Duration = Duration::from_secs(5);
/// Browsers send consent checks every few seconds; silence this long means the path is gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the first three bytes of a connection are an RFC 4571 length and the start of a
/// STUN message: a length a STUN binding request can have, and a first byte with the two
/// leading zero bits of STUN. An HTTP request line (a letter, 0x41 and up) or a TLS record
/// (0x16) gives a length far beyond any STUN request.
pub fn looks_like_framed_stun(first: [u8; 3]) -> bool {
    let length = usize::from(u16::from_be_bytes([first[0], first[1]]));
    (20..=548).contains(&length) && first[2] & 0xC0 == 0
}

/// Serves one ICE-TCP connection from `remote`, arriving at the candidate `local`.
pub async fn serve(
    stream: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
    inbox: mpsc::Sender<Inbox>,
) {
    let (frames_tx, mut frames_rx) = mpsc::channel::<Vec<u8>>(OUTGOING_FRAMES);
    let opened = Inbox::TcpOpened {
        remote,
        frames: frames_tx,
    };
    if inbox.send(opened).await.is_err() {
        return;
    }
    let (mut reader, mut writer) = stream.into_split();
    let claimed = AtomicBool::new(false);
    // Three parts of one task, each polled until the first of them ends the connection.
    let read = async {
        let mut frame = vec![0u8; MAX_FRAME];
        loop {
            let Ok(Ok(length)) =
                tokio::time::timeout(IDLE_TIMEOUT, read_frame(&mut reader, &mut frame)).await
            else {
                return;
            };
            let bytes = frame[..length].to_vec();
            if inbox
                .send(Inbox::TcpFrame {
                    remote,
                    local,
                    bytes,
                })
                .await
                .is_err()
            {
                return;
            }
        }
    };
    let write = async {
        while let Some(outgoing) = frames_rx.recv().await {
            claimed.store(true, Ordering::Relaxed);
            let Ok(length) = u16::try_from(outgoing.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(outgoing.len() + 2);
            framed.extend_from_slice(&length.to_be_bytes());
            framed.extend_from_slice(&outgoing);
            if writer.write_all(&framed).await.is_err() {
                return;
            }
        }
    };
    let unclaimed = async {
        tokio::time::sleep(UNCLAIMED_TIMEOUT).await;
        if claimed.load(Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = read => {}
        () = write => {}
        () = unclaimed => {}
    }
    let _ = inbox.send(Inbox::TcpClosed { remote }).await;
}

/// Reads one RFC 4571 frame into `buffer`; an impossible length is an error.
async fn read_frame(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    buffer: &mut [u8],
) -> std::io::Result<usize> {
    let mut length = [0u8; 2];
    reader.read_exact(&mut length).await?;
    let length = usize::from(u16::from_be_bytes(length));
    if length == 0 || length > buffer.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "frame of an impossible size",
        ));
    }
    reader.read_exact(&mut buffer[..length]).await?;
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_stun_is_told_from_http_and_tls() {
        // A binding request of 108 bytes: 0x006c, then type 0x0001.
        assert!(looks_like_framed_stun([0x00, 0x6c, 0x00]));
        assert!(!looks_like_framed_stun(*b"GET"));
        assert!(!looks_like_framed_stun(*b"POS"));
        assert!(
            !looks_like_framed_stun([0x16, 0x03, 0x01]),
            "a TLS ClientHello"
        );
        assert!(!looks_like_framed_stun([0x00, 0x6c, 0x80]), "RTP, not STUN");
        assert!(
            !looks_like_framed_stun([0x00, 0x05, 0x00]),
            "too short for STUN"
        );
    }
}
