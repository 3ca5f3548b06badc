//! A TCP relay that counts connections: put in front of a broker (which advertises the relay's
//! address, so every client connection comes through it), it tells how many connections the
//! clients opened, and how many are open now.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

/// A running relay; it stops when the runtime that started it does.
pub struct Relay {
    /// `127.0.0.1:PORT` to connect to.
    pub addr: String,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
}

impl Relay {
    /// Listens on a free port and relays every connection to `target` (`HOST:PORT`), which need
    /// not listen yet.
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let target = target.to_owned();
        let (count, live) = (Arc::clone(&accepted), Arc::clone(&open));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (target, live) = (target.clone(), Arc::clone(&live));
                tokio::spawn(async move {
                    live.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut upstream) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                    live.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self {
            addr,
            accepted,
            open,
        })
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}
