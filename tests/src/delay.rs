//! A UDP relay that holds every datagram for a fixed time in each direction: delay for the
//! reliability tests (this kernel has no netem). It stands where clients think the SFU is
//! (the relay advertises the proxy's address, as behind a 1:1 NAT) and talks to the SFU
//! from one socket per client, so each client stays one remote address to the SFU.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub struct DelayProxy {
    task: JoinHandle<()>,
}

/// Sends each datagram at its due time, in the order they came.
fn delayed_sender(
    socket: Arc<UdpSocket>,
    to: Option<SocketAddr>,
) -> mpsc::UnboundedSender<(Instant, Vec<u8>, SocketAddr)> {
    let (queue, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>, SocketAddr)>();
    tokio::spawn(async move {
        while let Some((at, bytes, destination)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            let _ = socket.send_to(&bytes, to.unwrap_or(destination)).await;
        }
    });
    queue
}

impl DelayProxy {
    /// Listen on `front`, forward to `upstream`, `one_way` late in each direction.
    pub async fn start(
        front: SocketAddr,
        upstream: SocketAddr,
        one_way: Duration,
    ) -> Result<DelayProxy> {
        let front_socket = Arc::new(UdpSocket::bind(front).await?);
        let task = tokio::spawn(async move {
            let to_clients = delayed_sender(front_socket.clone(), None);
            let mut upstreams: HashMap<
                SocketAddr,
                mpsc::UnboundedSender<(Instant, Vec<u8>, SocketAddr)>,
            > = HashMap::new();
            let mut buf = vec![0u8; 2048];
            loop {
                let Ok((len, client)) = front_socket.recv_from(&mut buf).await else {
                    continue;
                };
                let at = Instant::now() + one_way;
                if let std::collections::hash_map::Entry::Vacant(slot) = upstreams.entry(client) {
                    let Ok(socket) = UdpSocket::bind(SocketAddr::new(front.ip(), 0)).await else {
                        continue;
                    };
                    let socket = Arc::new(socket);
                    slot.insert(delayed_sender(socket.clone(), Some(upstream)));
                    // Replies for this client come back on its socket.
                    let back = to_clients.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 2048];
                        while let Ok((len, _)) = socket.recv_from(&mut buf).await {
                            let at = Instant::now() + one_way;
                            if back.send((at, buf[..len].to_vec(), client)).is_err() {
                                break;
                            }
                        }
                    });
                }
                if let Some(queue) = upstreams.get(&client) {
                    let _ = queue.send((at, buf[..len].to_vec(), upstream));
                }
            }
        });
        Ok(DelayProxy { task })
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
