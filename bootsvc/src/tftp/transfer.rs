//! One read transfer on its own UDP socket (the server's TID), after negotiation: optional
//! OACK, then DATA blocks in windows of `window` blocks (1 unless RFC 7440 was negotiated),
//! each window resent when its ACK does not come within the timeout.
//!
//! Only an ACK that moves the window forward resets the clock: duplicate or stale ACKs are
//! ignored and trigger nothing, which is what avoids the Sorcerer's Apprentice bug (RFC 1123
//! §4.2.3.1). Block numbers are the low 16 bits of the block index, so files past 65535 blocks
//! wrap to 0 as common clients (iPXE, busybox, curl) expect.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::options::Negotiated;
use super::packet::{self, Packet};

/// How a transfer ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The last block was acknowledged; payload bytes delivered.
    Done {
        /// File bytes acknowledged by the client.
        bytes: u64,
    },
    /// The client ended it with an ERROR packet (UEFI firmware does this after reading tsize).
    Aborted {
        /// The client's error code and message.
        reason: String,
    },
    /// The server gave up: no answer after all retries, or the socket failed.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Parameters of one transfer.
pub struct Transfer<R> {
    /// Connected to the client's TID, so datagrams from anyone else never reach us.
    pub socket: UdpSocket,
    /// The file, positioned at its start.
    pub file: R,
    /// Negotiated block size, window and timeout; its `acknowledged` list becomes the OACK.
    pub negotiated: Negotiated,
    /// Retransmissions of one packet or window before giving up.
    pub retries: u32,
}

impl<R: AsyncRead + Unpin> Transfer<R> {
    /// Run the transfer to its end.
    pub async fn run(mut self) -> Outcome {
        match self.exchange().await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Failed {
                reason: format!("socket error: {error}"),
            },
        }
    }

    async fn exchange(&mut self) -> io::Result<Outcome> {
        let timeout = self.negotiated.timeout;
        if !self.negotiated.acknowledged.is_empty() {
            let oack = packet::encode_oack(&self.negotiated.acknowledged);
            let mut window = VecDeque::from([oack]);
            // The OACK is "block 0": acknowledged by ACK 0.
            if let Some(end) = self.send_until_acked(&mut window, 0, timeout).await? {
                return Ok(end);
            }
        }
        let blksize = usize::from(self.negotiated.blksize);
        let window_len = usize::from(self.negotiated.window.max(1));
        let mut window: VecDeque<Vec<u8>> = VecDeque::with_capacity(window_len);
        let mut first_block: u64 = 1;
        let mut next_block: u64 = 1;
        let mut last_read = false;
        let mut bytes: u64 = 0;
        loop {
            while window.len() < window_len && !last_read {
                let mut payload = vec![0u8; blksize];
                let filled = read_full(&mut self.file, &mut payload).await?;
                payload.truncate(filled);
                last_read = filled < blksize;
                let mut data = Vec::with_capacity(4 + filled);
                packet::encode_data(&mut data, wire(next_block), &payload);
                window.push_back(data);
                next_block += 1;
            }
            if window.is_empty() {
                return Ok(Outcome::Done { bytes });
            }
            let before: u64 = window.iter().map(|d| (d.len() - 4) as u64).sum();
            let sent = window.len() as u64;
            match self
                .send_until_acked(&mut window, first_block, timeout)
                .await?
            {
                Some(end) => return Ok(end),
                None => {
                    let after: u64 = window.iter().map(|d| (d.len() - 4) as u64).sum();
                    bytes += before - after;
                    first_block += sent - window.len() as u64;
                }
            }
        }
    }

    /// Send every packet of `window` (the first numbered `first`) and wait for an ACK of one of
    /// them; drop the acknowledged prefix and return `None`, or the end of the transfer.
    async fn send_until_acked(
        &mut self,
        window: &mut VecDeque<Vec<u8>>,
        first: u64,
        timeout: Duration,
    ) -> io::Result<Option<Outcome>> {
        let mut buf = [0u8; 1024];
        for attempt in 0..=self.retries {
            for datagram in window.iter() {
                if let Err(error) = self.socket.send(datagram).await {
                    return Ok(Some(unreachable_or(error)?));
                }
            }
            let deadline = Instant::now() + timeout;
            loop {
                let received = match timeout_at(deadline, self.socket.recv(&mut buf)).await {
                    Err(_elapsed) => break,
                    Ok(Err(error)) => return Ok(Some(unreachable_or(error)?)),
                    Ok(Ok(len)) => buf.get(..len).unwrap_or_default(),
                };
                match packet::parse(received) {
                    Ok(Packet::Ack(block)) => {
                        let offset = usize::from(block.wrapping_sub(wire(first)));
                        if offset < window.len() {
                            window.drain(..=offset);
                            return Ok(None);
                        }
                        // A duplicate or stale ACK: resending now would double the traffic.
                    }
                    Ok(Packet::Error { code, message }) => {
                        return Ok(Some(Outcome::Aborted {
                            reason: format!("client error {code}: {message}"),
                        }));
                    }
                    Ok(_) | Err(_) => {
                        tracing::debug!(len = received.len(), "ignored a stray datagram");
                    }
                }
            }
            if attempt < self.retries {
                tracing::debug!(
                    block = first,
                    attempt = attempt + 1,
                    "timeout, retransmitting"
                );
            }
        }
        let end = Outcome::Failed {
            reason: format!(
                "no ACK for block {first} after {} retransmissions",
                self.retries
            ),
        };
        let _ = self
            .socket
            .send(&packet::encode_error(
                packet::ErrorCode::Undefined,
                "timed out",
            ))
            .await;
        Ok(Some(end))
    }
}

/// A refused connection means the client went away (ICMP port unreachable): an end, not an
/// I/O failure of ours.
fn unreachable_or(error: io::Error) -> io::Result<Outcome> {
    if error.kind() == io::ErrorKind::ConnectionRefused {
        Ok(Outcome::Failed {
            reason: "the client's port is closed".into(),
        })
    } else {
        Err(error)
    }
}

fn wire(block: u64) -> u16 {
    (block & 0xffff) as u16
}

async fn read_full<R: AsyncRead + Unpin>(file: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::wire;

    #[test]
    fn block_numbers_wrap() {
        assert_eq!(wire(65535), 65535);
        assert_eq!(wire(65536), 0);
        assert_eq!(wire(65537), 1);
    }
}
