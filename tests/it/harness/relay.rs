//! A loopback TCP relay to the private MariaDB that loses the answer to svcctl's COMMIT: the
//! server commits, and the connection drops before svcctl reads that it did.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::database::TestDb;

/// A loopback relay to the real server that, once, forwards the client's COMMIT, reads the
/// server's answer, and closes both sides instead of passing the answer on. With
/// `refuse_after_cut`, every later connection is closed at once (the server is "gone").
pub struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl Relay {
    pub fn start(to: u16, refuse_after_cut: bool) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(true));
        let done = cut.clone();
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
                    let (armed, commit_sent) = (armed.clone(), commit_sent.clone());
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
                // Server to client: the answer to the armed COMMIT is dropped with both sides.
                {
                    let (mut from, mut to) = (server, client);
                    let done = done.clone();
                    std::thread::spawn(move || {
                        let mut chunk = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if commit_sent.load(Ordering::SeqCst) {
                                let _ = to.shutdown(Shutdown::Both);
                                let _ = from.shutdown(Shutdown::Both);
                                done.store(true, Ordering::SeqCst);
                                return;
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
        Relay { port, cut }
    }

    pub fn url(&self, db: &TestDb) -> String {
        db.url()
            .replace(&format!(":{}/", db.port), &format!(":{}/", self.port))
    }

    pub fn did_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}
