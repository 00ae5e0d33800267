//! Serving HTTP(S) connections with limits, so that slow clients cannot take the relay's file
//! descriptors: a request's headers must arrive within [`HEADER_TIMEOUT`] (also the wait for
//! the next request on a kept-alive connection), a TLS handshake within
//! [`HANDSHAKE_TIMEOUT`], and only so many connections are open at once, from one address
//! and in all. WebSocket upgrades leave these limits behind once upgraded (signaling has its
//! own idle timeout and per-address cap).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tracing::debug;

use crate::limits::{ConnectionCounter, ConnectionSlot};

/// All of a request's headers must arrive within this time.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS handshake must be done within this time.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP connections open at once, in all (each is a file descriptor).
pub const MAX_CONNECTIONS: usize = 4096;
/// HTTP connections one address may hold open at once (an office behind one NAT: a few
/// browsers, each with up to six).
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 128;
/// How long open requests may take to finish when the relay stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The address a connection arrived at (a peer with the same address is this machine).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddress(pub Option<SocketAddr>);

/// Open connections, in all and per address.
#[derive(Clone)]
struct Admission {
    all: Arc<Semaphore>,
    per_address: ConnectionCounter,
}

/// A connection's place; freed when it ends.
struct Place {
    _all: OwnedSemaphorePermit,
    _address: ConnectionSlot,
}

impl Admission {
    fn new() -> Admission {
        Admission {
            all: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            per_address: ConnectionCounter::with_limit(MAX_CONNECTIONS_PER_ADDRESS),
        }
    }

    fn admit(&self, peer: IpAddr) -> Option<Place> {
        Some(Place {
            _all: self.all.clone().try_acquire_owned().ok()?,
            _address: self.per_address.acquire(peer)?,
        })
    }
}

/// Where ICE-TCP connections arriving on this port go: the media loop, and the passive
/// candidates the relay advertises for this port (one per media address).
#[derive(Clone)]
pub struct IceTcp {
    pub inbox: tokio::sync::mpsc::Sender<crate::sfu::io::Inbox>,
    pub candidates: Vec<SocketAddr>,
}

impl IceTcp {
    /// The candidate a connection arrived at: the one on its local address, else the first
    /// (an address advertised for 1:1 NAT differs from the one bound).
    fn candidate_for(&self, local: Option<SocketAddr>) -> Option<SocketAddr> {
        let local = local.map(|l| l.ip().to_canonical());
        self.candidates
            .iter()
            .find(|c| Some(c.ip()) == local)
            .or_else(|| self.candidates.first())
            .copied()
    }
}

/// What a connection's first bytes say it is.
enum Opening {
    IceTcp,
    Web,
    Gone,
}

/// Waits (up to [`HEADER_TIMEOUT`]) for a connection's first three bytes, without taking them.
async fn opening(stream: &TcpStream) -> Opening {
    let look = async {
        let mut first = [0u8; 3];
        loop {
            match stream.peek(&mut first).await {
                Ok(0) | Err(_) => return Opening::Gone,
                Ok(3) => {
                    return if crate::sfu::tcp_media::looks_like_framed_stun(first) {
                        Opening::IceTcp
                    } else {
                        Opening::Web
                    }
                }
                // The rest of the first segment is on its way.
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    tokio::time::timeout(HEADER_TIMEOUT, look)
        .await
        .unwrap_or(Opening::Gone)
}

/// Serves `app` on `listener` (over TLS with `tls`) until `stop` completes; then open
/// requests get a moment to finish. With `ice_tcp`, connections that open with framed STUN
/// are media (ICE over TCP on the web port) and go to the media loop instead.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    ice_tcp: Option<IceTcp>,
    stop: impl Future<Output = ()>,
) {
    let admission = Admission::new();
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or the peer gave up: wait a moment, go on.
                    debug!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Over a limit: closed at once, before any work.
        let Some(place) = admission.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let ice_tcp = ice_tcp.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _place = place;
            if let Some(ice_tcp) = ice_tcp {
                match opening(&stream).await {
                    Opening::Gone => return,
                    Opening::IceTcp => {
                        let Some(candidate) = ice_tcp.candidate_for(stream.local_addr().ok())
                        else {
                            return;
                        };
                        return crate::sfu::tcp_media::serve(
                            stream,
                            peer,
                            candidate,
                            ice_tcp.inbox,
                        )
                        .await;
                    }
                    Opening::Web => {}
                }
            }
            let local = LocalAddress(stream.local_addr().ok());
            let service = TowerToHyperService::new(
                app.layer(axum::Extension(ConnectInfo::<SocketAddr>(peer)))
                    .layer(axum::Extension(local)),
            );
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            match tls {
                None => {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
                Some(tls) => {
                    let Some(stream) = handshake(&tls, stream).await else {
                        return;
                    };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

async fn handshake(
    tls: &TlsAcceptor,
    stream: TcpStream,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_every_place() {
        let admission = Admission::new();
        let crowd: IpAddr = "203.0.113.5".parse().expect("ip");
        let places: Vec<Place> = (0..MAX_CONNECTIONS_PER_ADDRESS)
            .map(|_| admission.admit(crowd).expect("place"))
            .collect();
        assert!(admission.admit(crowd).is_none());
        assert!(admission
            .admit("198.51.100.1".parse().expect("ip"))
            .is_some());
        drop(places);
        assert!(admission.admit(crowd).is_some(), "places are freed");
    }
}
