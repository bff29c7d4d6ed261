//! A loopback TCP relay to the private MariaDB that interferes with svcctl's first COMMIT, once:
//! it loses the server's answer (the server commits, the connection drops before svcctl reads
//! that it did), or it holds the COMMIT itself, or the answer, until the test says what becomes
//! of it (`release`: passed on; `cut`: both sides closed without it). Every other packet, and
//! every later connection, passes through unchanged (unless `refuse_after_cut`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::database::TestDb;

/// What the relay does with svcctl's first COMMIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Passes the COMMIT on, reads the server's answer, and closes both sides instead of
    /// passing it on.
    LoseAnswer,
    /// Keeps the COMMIT (the server never sees it) until `release` or `cut`.
    Commit,
    /// Passes the COMMIT on (the server commits) and keeps the answer until `release` or `cut`.
    Answer,
}

/// Where the held packet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Waiting,
    Holding,
    Released,
    Cut,
}

type Gate = Arc<(Mutex<Held>, Condvar)>;

pub struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    gate: Gate,
}

impl Relay {
    /// A relay that loses the answer to the first COMMIT; with `refuse_after_cut`, every
    /// later connection is closed at once (the server is "gone").
    pub fn start(to: u16, refuse_after_cut: bool) -> Relay {
        Relay::with(to, Hold::LoseAnswer, refuse_after_cut)
    }

    /// A relay that holds the first COMMIT, or its answer, until the test decides.
    pub fn holding(to: u16, hold: Hold) -> Relay {
        Relay::with(to, hold, false)
    }

    fn with(to: u16, hold: Hold, refuse_after_cut: bool) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let gate: Gate = Arc::new((Mutex::new(Held::Waiting), Condvar::new()));
        let armed = Arc::new(AtomicBool::new(true));
        let (done, relay_gate) = (cut.clone(), gate.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                if refuse_after_cut && done.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                    return;
                };
                let commit_sent = Arc::new(AtomicBool::new(false));
                // Client to server: packet by packet, so a COMMIT is seen before it is sent.
                {
                    let (mut from, mut to) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let (armed, commit_sent, gate) =
                        (armed.clone(), commit_sent.clone(), relay_gate.clone());
                    std::thread::spawn(move || {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            buf.extend_from_slice(&chunk[..n]);
                            while buf.len() >= 4 {
                                let len = buf[0] as usize
                                    | (buf[1] as usize) << 8
                                    | (buf[2] as usize) << 16;
                                if buf.len() < 4 + len {
                                    break;
                                }
                                let packet: Vec<u8> = buf.drain(..4 + len).collect();
                                let payload = &packet[4..];
                                if payload.first() == Some(&0x03)
                                    && payload[1..].eq_ignore_ascii_case(b"COMMIT")
                                    && armed.swap(false, Ordering::SeqCst)
                                {
                                    if hold == Hold::Commit && decide(&gate) == Held::Cut {
                                        let _ = to.shutdown(Shutdown::Both);
                                        let _ = from.shutdown(Shutdown::Both);
                                        return;
                                    }
                                    commit_sent.store(true, Ordering::SeqCst);
                                }
                                if to.write_all(&packet).is_err() {
                                    return;
                                }
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                // Server to client: the answer to the armed COMMIT is lost or held.
                {
                    let (mut from, mut to) = (server, client);
                    let (done, gate) = (done.clone(), relay_gate.clone());
                    std::thread::spawn(move || {
                        let mut chunk = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if commit_sent.swap(false, Ordering::SeqCst) {
                                let lose = match hold {
                                    Hold::LoseAnswer => true,
                                    Hold::Answer => decide(&gate) == Held::Cut,
                                    Hold::Commit => false,
                                };
                                if lose {
                                    // Marked cut before the client can see it: its
                                    // reconnection must find the relay refusing.
                                    done.store(true, Ordering::SeqCst);
                                    let _ = to.shutdown(Shutdown::Both);
                                    let _ = from.shutdown(Shutdown::Both);
                                    return;
                                }
                            }
                            if to.write_all(&chunk[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, cut, gate }
    }

    pub fn url(&self, db: &TestDb) -> String {
        db.url()
            .replace(&format!(":{}/", db.port), &format!(":{}/", self.port))
    }

    pub fn did_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// Waits until the relay holds the COMMIT (or its answer).
    pub fn wait_held(&self) {
        let (lock, cv) = &*self.gate;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut held = lock.lock().unwrap();
        while *held == Held::Waiting {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "svcctl never sent COMMIT through the relay"
            );
            held = cv.wait_timeout(held, left).unwrap().0;
        }
    }

    /// Passes the held packet on.
    pub fn release(&self) {
        self.settle(Held::Released);
    }

    /// Closes both sides of the held connection without passing the packet on.
    pub fn cut(&self) {
        self.settle(Held::Cut);
    }

    fn settle(&self, to: Held) {
        let (lock, cv) = &*self.gate;
        *lock.lock().unwrap() = to;
        cv.notify_all();
    }
}

impl Drop for Relay {
    /// A relay thread still holding a packet lets go of the connection.
    fn drop(&mut self) {
        let (lock, cv) = &*self.gate;
        let mut held = lock.lock().unwrap();
        if *held == Held::Holding || *held == Held::Waiting {
            *held = Held::Cut;
        }
        cv.notify_all();
    }
}

/// Holds here until the test releases or cuts; returns its decision.
fn decide(gate: &Gate) -> Held {
    let (lock, cv) = &**gate;
    let mut held = lock.lock().unwrap();
    if *held == Held::Waiting {
        *held = Held::Holding;
        cv.notify_all();
    }
    while *held == Held::Holding {
        held = cv.wait(held).unwrap();
    }
    *held
}
