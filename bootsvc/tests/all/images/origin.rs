//! A test image origin on 127.0.0.1:0 that counts requests and can hold, fail or lie, and
//! the cache under test over a temporary directory and sled database.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_bootsvc::images::{ImageCache, ImageRef, images_router};
use http_body_util::BodyExt;
use tokio::sync::watch;
use tower::ServiceExt;

/// `n` bytes that differ from image to image.
pub fn content(seed: u8, n: usize) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, b);
    d.as_ref().try_into().unwrap()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Default)]
struct OriginState {
    files: Mutex<HashMap<String, Vec<u8>>>,
    /// A `Repr-Digest` value to send for a file.
    repr_digest: Mutex<HashMap<String, String>>,
    requests: Mutex<HashMap<String, u64>>,
    total: AtomicU64,
    failing: AtomicBool,
    gate: Mutex<Option<watch::Sender<bool>>>,
}

/// The origin: `/img/{name}` answers at once, `/gated/{name}` once the gate opens,
/// `/hang/{name}` never.
#[derive(Clone)]
pub struct Origin {
    pub addr: SocketAddr,
    state: Arc<OriginState>,
    gate: watch::Sender<bool>,
}

impl Origin {
    pub async fn start() -> Origin {
        let (gate, _) = watch::channel(false);
        let state = Arc::new(OriginState::default());
        *state.gate.lock().unwrap() = Some(gate.clone());
        let app = Router::new()
            .route("/img/{name}", get(serve))
            .route("/gated/{name}", get(gated))
            .route("/hang/{name}", get(hang))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Origin { addr, state, gate }
    }

    pub fn put(&self, name: &str, body: Vec<u8>) {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(name.to_owned(), body);
    }

    pub fn set_repr_digest(&self, name: &str, value: &str) {
        self.state
            .repr_digest
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn url(&self, route: &str, name: &str) -> String {
        format!("http://{}/{route}/{name}", self.addr)
    }

    /// Requests for `name` so far, on every route.
    pub fn requests(&self, name: &str) -> u64 {
        *self.state.requests.lock().unwrap().get(name).unwrap_or(&0)
    }

    pub fn total_requests(&self) -> u64 {
        self.state.total.load(Ordering::SeqCst)
    }

    /// From now on every request answers 503, as an origin behind a cut link would not
    /// answer at all.
    pub fn fail(&self, on: bool) {
        self.state.failing.store(on, Ordering::SeqCst);
    }

    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }
}

fn count(st: &OriginState, name: &str) {
    *st.requests
        .lock()
        .unwrap()
        .entry(name.to_owned())
        .or_default() += 1;
    st.total.fetch_add(1, Ordering::SeqCst);
}

async fn serve(State(st): State<Arc<OriginState>>, UrlPath(name): UrlPath<String>) -> Response {
    count(&st, &name);
    answer(&st, &name)
}

fn answer(st: &OriginState, name: &str) -> Response {
    if st.failing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(body) = st.files.lock().unwrap().get(name).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = Response::new(Body::from(body));
    if let Some(d) = st.repr_digest.lock().unwrap().get(name) {
        resp.headers_mut().insert("repr-digest", d.parse().unwrap());
    }
    resp
}

async fn gated(State(st): State<Arc<OriginState>>, UrlPath(name): UrlPath<String>) -> Response {
    count(&st, &name);
    let mut rx = st.gate.lock().unwrap().as_ref().unwrap().subscribe();
    rx.wait_for(|open| *open).await.unwrap();
    answer(&st, &name)
}

async fn hang(State(st): State<Arc<OriginState>>, UrlPath(name): UrlPath<String>) -> Response {
    count(&st, &name);
    std::future::pending::<()>().await;
    unreachable!()
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A cache over a temporary directory, and how to reopen it as a restarted agent would.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub cache: ImageCache,
    pub app: Router,
    _db: sled::Db,
}

impl Env {
    pub fn new(max_bytes: u64) -> Env {
        Self::with_client(max_bytes, client())
    }

    pub fn with_client(max_bytes: u64, client: reqwest::Client) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let (db, cache) = try_open(tmp.path(), max_bytes, client).unwrap();
        let app = images_router(cache.clone());
        Env {
            tmp,
            cache,
            app,
            _db: db,
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("images")
    }

    /// Drops the cache and its database, then opens both again from disk.
    pub async fn restart(self, max_bytes: u64) -> Env {
        let Env {
            tmp,
            cache,
            app,
            _db: db,
        } = self;
        drop((cache, app, db));
        // Fill tasks may hold the old database for a moment after answering.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (db, cache) = loop {
            match try_open(tmp.path(), max_bytes, client()) {
                Ok(opened) => break opened,
                Err(e) => {
                    assert!(Instant::now() < deadline, "reopening: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        Env {
            tmp,
            app: images_router(cache.clone()),
            cache,
            _db: db,
        }
    }

    pub fn want(&self, urls: &[&str]) {
        self.cache
            .set_wanted(urls.iter().map(|u| ImageRef::parse(u).unwrap()));
    }

    pub fn path_of(&self, url: &str) -> String {
        self.cache.local_path(url).unwrap()
    }

    /// `GET`s `url`'s local path with these headers.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", &self.path_of(url), headers).await
    }

    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Digest-named files in the cache directory.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

fn try_open(
    root: &Path,
    max_bytes: u64,
    client: reqwest::Client,
) -> Result<(sled::Db, ImageCache), sled::Error> {
    let db = sled::open(root.join("index"))?;
    let tree = db.open_tree("images")?;
    let cache = ImageCache::open(root.join("images"), tree, client, max_bytes).unwrap();
    Ok((db, cache))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// The problem detail of an error answer.
    pub fn detail(&self) -> String {
        assert_eq!(self.header("content-type"), "application/problem+json");
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        v["detail"].as_str().unwrap().to_owned()
    }
}

/// Polls `f` until it holds, for up to thirty seconds: what it waits for takes milliseconds,
/// fills and their fsyncs included, but the machine running the tests may be busy.
pub async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
