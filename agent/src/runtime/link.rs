//! The link to the coordinators: one lazily connected gRPC channel per replica URL, the replica
//! currently in use (a call failing as unavailable moves every loop on to the next one), the
//! registration state every loop waits on, and how a call's failure is handled.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cairn_protocols::pb::agent::agent_service_client::AgentServiceClient;
use tokio::sync::{Notify, watch};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::shutdown::Shutdown;
use super::status::StatusBoard;

/// Limit for one unary call (a report may wait for a Raft quorum, or for a new leader).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Largest message accepted from a coordinator (a full Watch snapshot of a big rack).
const MAX_MESSAGE: usize = 64 << 20;

/// A coordinator URL that tonic cannot use.
#[derive(Debug, thiserror::Error)]
#[error("invalid coordinator URL {url:?}")]
pub struct BadUrl {
    /// The URL.
    pub url: String,
    /// tonic's reason.
    #[source]
    pub source: tonic::transport::Error,
}

/// What the agent's registration currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// Bumped at every successful Register (0: never registered in this process).
    pub generation: u64,
    /// Whether the coordinators currently know the agent (as far as the agent can tell).
    pub registered: bool,
    /// The heartbeat interval the coordinator asked for.
    pub heartbeat: Duration,
}

/// How a loop should react to a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The request will never be accepted as it is (INVALID_ARGUMENT).
    Invalid(String),
    /// The agent is not registered: register, then retry (FAILED_PRECONDITION).
    Unregistered,
    /// Register: a cabinet of the scope belongs to another agent (ALREADY_EXISTS).
    Conflict(String),
    /// Retry after a backoff; `failover` when another replica should be tried.
    Retry {
        /// Try the next replica.
        failover: bool,
    },
}

/// What a failed call means for the caller (see `agent.proto`, "STATUS CODES").
pub fn classify(status: &Status) -> Failure {
    match status.code() {
        Code::InvalidArgument => Failure::Invalid(status.message().to_owned()),
        Code::FailedPrecondition => Failure::Unregistered,
        Code::AlreadyExists => Failure::Conflict(status.message().to_owned()),
        // Transport errors surface as Unavailable or Unknown; a replica without the service
        // (an older version) as Unimplemented; a replica that does not answer in time as
        // DeadlineExceeded or Cancelled.
        Code::Unavailable
        | Code::Unknown
        | Code::Unimplemented
        | Code::DeadlineExceeded
        | Code::Cancelled => Failure::Retry { failover: true },
        _ => Failure::Retry { failover: false },
    }
}

/// The coordinators as the agent's loops share them.
#[derive(Debug)]
pub struct Link {
    urls: Vec<String>,
    channels: Vec<Channel>,
    current: AtomicUsize,
    registration: watch::Sender<Registration>,
    reregister: Notify,
    status: std::sync::Arc<StatusBoard>,
    /// The last failure worth telling operators about (shown in the status).
    last_error: Mutex<Option<String>>,
}

impl Link {
    /// Channels to every URL (connected on first use, reconnected after failures).
    pub fn new(
        urls: &[String],
        heartbeat: Duration,
        status: std::sync::Arc<StatusBoard>,
    ) -> Result<Link, BadUrl> {
        let channels = urls
            .iter()
            .map(|url| {
                Endpoint::from_shared(url.clone())
                    .map(|e| {
                        e.connect_timeout(Duration::from_secs(3))
                            .tcp_nodelay(true)
                            // Notice a dead peer on an idle Watch stream (a cut link sends no RST).
                            .http2_keep_alive_interval(Duration::from_secs(10))
                            .keep_alive_timeout(Duration::from_secs(10))
                            .keep_alive_while_idle(true)
                            .connect_lazy()
                    })
                    .map_err(|source| BadUrl {
                        url: url.clone(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (registration, _) = watch::channel(Registration {
            generation: 0,
            registered: false,
            heartbeat,
        });
        Ok(Link {
            urls: urls.to_vec(),
            channels,
            current: AtomicUsize::new(0),
            registration,
            reregister: Notify::new(),
            status,
            last_error: Mutex::new(None),
        })
    }

    /// A client for the replica in use, and its index (to pass to [`Link::failed`]).
    pub fn client(&self) -> (usize, AgentServiceClient<Channel>) {
        let i = self.current.load(Ordering::Relaxed) % self.channels.len();
        let client = AgentServiceClient::new(self.channels[i].clone())
            .max_decoding_message_size(MAX_MESSAGE);
        (i, client)
    }

    /// The URL of the replica in use.
    pub fn current_url(&self) -> &str {
        &self.urls[self.current.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// A call to replica `index` failed with `status`: remember why and, if the failure calls
    /// for it, move on to the next replica (unless another loop already did).
    pub fn failed(&self, index: usize, what: &str, status: &Status) -> Failure {
        let failure = classify(status);
        let url = &self.urls[index % self.urls.len()];
        tracing::debug!(%url, code = ?status.code(), message = status.message(), "{what} failed");
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(format!("{what} on {url}: {}", status.message()));
        }
        match &failure {
            Failure::Retry { failover: true } if self.urls.len() > 1 => {
                let next = (index + 1) % self.urls.len();
                if self
                    .current
                    .compare_exchange(index, next, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    tracing::info!(from = %url, to = %self.urls[next], "switching coordinator replica");
                }
            }
            Failure::Unregistered => self.lost_registration(),
            _ => {}
        }
        failure
    }

    /// A call succeeded: the coordinators are reachable.
    pub fn contact(&self) {
        self.status.contact();
    }

    /// The last failure, for the status page.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// The agent registered; `heartbeat` is the interval the coordinator asked for.
    pub fn registered(&self, heartbeat: Duration) {
        self.registration.send_modify(|r| {
            r.generation += 1;
            r.registered = true;
            r.heartbeat = heartbeat;
        });
        self.status.registered(true);
    }

    /// The heartbeat interval changed (told by a heartbeat answer).
    pub fn set_heartbeat(&self, heartbeat: Duration) {
        self.registration.send_if_modified(|r| {
            let changed = r.heartbeat != heartbeat;
            r.heartbeat = heartbeat;
            changed
        });
    }

    /// A call said the agent is not registered: ask the session loop to register again.
    pub fn lost_registration(&self) {
        self.registration.send_if_modified(|r| {
            let was = r.registered;
            r.registered = false;
            was
        });
        self.status.registered(false);
        self.reregister.notify_one();
    }

    /// Resolves when some loop reported the registration lost.
    pub async fn reregister_wanted(&self) {
        self.reregister.notified().await;
    }

    /// The current registration.
    pub fn registration(&self) -> Registration {
        *self.registration.borrow()
    }

    /// Watches registration changes.
    pub fn subscribe(&self) -> watch::Receiver<Registration> {
        self.registration.subscribe()
    }

    /// Waits until the agent is registered; `None` if it stops first.
    pub async fn wait_registered(&self, shutdown: &mut Shutdown) -> Option<Registration> {
        let mut rx = self.registration.subscribe();
        let wait = rx.wait_for(|r| r.registered);
        shutdown.guard(wait).await.and_then(|r| r.ok()).map(|r| *r)
    }
}

/// Exponential backoff between retries: 200 ms doubling to 5 s, with jitter so many agents
/// retrying after a coordinator outage do not call in lockstep.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Self::FIRST }
    }
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(200);
    const MAX: Duration = Duration::from_secs(5);

    /// The delay before the next retry (and doubles the one after).
    pub fn delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d.mul_f64(0.75 + 0.5 * jitter())
    }

    /// Back to the first delay, after a success.
    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// A number in [0, 1) that differs between calls and processes (not for cryptography).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_the_protocol_asks() {
        assert_eq!(
            classify(&Status::invalid_argument("seq: must be positive")),
            Failure::Invalid("seq: must be positive".into())
        );
        assert_eq!(
            classify(&Status::failed_precondition("x")),
            Failure::Unregistered
        );
        assert!(matches!(
            classify(&Status::already_exists("x1000 belongs to rack-2")),
            Failure::Conflict(_)
        ));
        assert_eq!(
            classify(&Status::unavailable("no leader")),
            Failure::Retry { failover: true }
        );
        assert_eq!(
            classify(&Status::internal("bug")),
            Failure::Retry { failover: false }
        );
    }

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut b = Backoff::default();
        let first = b.delay();
        assert!(first >= Duration::from_millis(150) && first <= Duration::from_millis(250));
        for _ in 0..10 {
            assert!(b.delay() <= Backoff::MAX.mul_f64(1.25));
        }
        b.reset();
        assert!(b.delay() <= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn failover_moves_on_once_per_failure() {
        let status = std::sync::Arc::new(StatusBoard::default());
        let urls = vec![
            "http://127.0.0.1:1".to_owned(),
            "http://127.0.0.1:2".to_owned(),
        ];
        let link = Link::new(&urls, Duration::from_secs(5), status).unwrap();
        let (i, _) = link.client();
        assert_eq!(i, 0);
        link.failed(0, "Register", &Status::unavailable("down"));
        // A second loop that saw the same replica fail does not skip past the next one.
        link.failed(0, "Report", &Status::unavailable("down"));
        assert_eq!(link.current_url(), "http://127.0.0.1:2");
        link.failed(1, "Report", &Status::internal("oops"));
        assert_eq!(link.current_url(), "http://127.0.0.1:2");
        assert!(link.last_error().unwrap().contains("oops"));
    }
}
