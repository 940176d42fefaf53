//! A minimal TFTP client that lets a test decide what to send and when.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

/// What the server sent, decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Data(u16, Vec<u8>),
    Oack(Vec<(String, String)>),
    Error(u16, String),
}

pub struct Client {
    socket: UdpSocket,
    pub server: SocketAddr,
    /// The server's transfer socket, learnt from its first answer.
    pub tid: Option<SocketAddr>,
}

/// Generous bound on any single answer; a hung server fails the test instead of hanging it.
const ANSWER_DEADLINE: Duration = Duration::from_secs(20);

pub fn rrq(name: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut packet = vec![0, 1];
    for field in [name, mode]
        .into_iter()
        .chain(options.iter().flat_map(|(n, v)| [*n, *v]))
    {
        packet.extend_from_slice(field.as_bytes());
        packet.push(0);
    }
    packet
}

pub fn ack(block: u16) -> Vec<u8> {
    let mut packet = vec![0, 4];
    packet.extend_from_slice(&block.to_be_bytes());
    packet
}

impl Client {
    pub async fn new(server: SocketAddr) -> Client {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        Client {
            socket,
            server,
            tid: None,
        }
    }

    /// Send to the listener (requests) or garbage anywhere.
    pub async fn send_to_server(&self, datagram: &[u8]) {
        self.socket.send_to(datagram, self.server).await.unwrap();
    }

    /// Send to the transfer socket.
    pub async fn send(&self, datagram: &[u8]) {
        self.socket
            .send_to(datagram, self.tid.expect("no transfer yet"))
            .await
            .unwrap();
    }

    pub async fn recv(&mut self) -> Reply {
        let mut buf = vec![0u8; 70_000];
        let (len, from) = tokio::time::timeout(ANSWER_DEADLINE, self.socket.recv_from(&mut buf))
            .await
            .expect("no answer from the TFTP server")
            .unwrap();
        let buf = &buf[..len];
        // The listener itself answers only with errors (write requests, busy, bad mode).
        if from == self.server {
            assert_eq!(buf[1], 5, "only errors come from the listener");
        } else {
            if let Some(tid) = self.tid {
                assert_eq!(from, tid, "answer from another TID");
            }
            self.tid = Some(from);
        }
        let opcode = u16::from_be_bytes([buf[0], buf[1]]);
        let body = &buf[2..];
        match opcode {
            3 => Reply::Data(u16::from_be_bytes([body[0], body[1]]), body[2..].to_vec()),
            5 => {
                let text = &body[2..body.len() - 1];
                Reply::Error(
                    u16::from_be_bytes([body[0], body[1]]),
                    String::from_utf8_lossy(text).into(),
                )
            }
            6 => {
                let fields: Vec<String> = body
                    .split(|b| *b == 0)
                    .filter(|f| !f.is_empty())
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                Reply::Oack(
                    fields
                        .chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect(),
                )
            }
            other => panic!("unexpected opcode {other}"),
        }
    }

    /// Receive the error a refused request gets.
    pub async fn expect_error(&mut self) -> (u16, String) {
        match self.recv().await {
            Reply::Error(code, message) => (code, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Receive blocks `first..` until a short one, acknowledging every `window`-th and the
    /// last; returns the bytes.
    pub async fn receive_all(&mut self, blksize: usize, window: u16) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut expected: u16 = 1;
        loop {
            let Reply::Data(block, data) = self.recv().await else {
                panic!("expected data")
            };
            assert_eq!(block, expected, "blocks arrive in order on loopback");
            bytes.extend_from_slice(&data);
            let last = data.len() < blksize;
            if last || block % window == 0 {
                self.send(&ack(block)).await;
            }
            if last {
                return bytes;
            }
            expected = expected.wrapping_add(1);
        }
    }
}
