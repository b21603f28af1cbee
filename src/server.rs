//! The ballot box as an HTTP server (feature `server`): `evote board serve`.
//!
//! One writer thread owns the [`BallotBoard`]; requests reach it through a queue, and the
//! writer takes every ballot waiting in the queue at once (up to [`MAX_BATCH`]) into one
//! [`BallotBoard::append_many`]: one multiscalar verification and one `fsync` (or, for a board
//! in PostgreSQL, one transaction) for all of them (group commit). Each receipt is sent only
//! after the `fsync` or `COMMIT` that covers its entry; when the store fails, every ballot of
//! the batch is answered 503 (nothing acknowledged; the details go to the server's log, not to
//! the client). Reads (the head, the board, a tracker, the election's public data) go to the
//! files or the database directly: a reader never waits for the writer.
//!
//! | request | answer |
//! |---|---|
//! | `POST /ballots` (the ballot's bytes) | 201 `{entry, tracker, head, receipt}` (hex; the receipt's 203 bytes), or 4xx `{error}` |
//! | `POST /challenges` (a challenged ballot's bytes) | 201 as above, with `selections` (the opening) |
//! | `GET /head` | `{entries, head, closed}` |
//! | `GET /board?from=N` | the board file's bytes from entry N's start (N ≥ 1; header included for N = 1), at most 16 MiB; header `x-evote-next` gives the next entry to ask for |
//! | `GET /trackers/{hex}` | `{status, entry}`: counted, superseded, challenged or absent |
//! | `GET /election` | `{election_id, election_hash, election_key, ballot_box_key, ballot_bytes}` |
//! | `GET /election/{context.bin, manifest.json, ceremony.bin, credentials.bin, outcome.bin}` | the election's public files: `context.bin` is all a voter's client needs (checked against the election hash it trusts) |
//! | `POST /admin/close` with `Authorization: Bearer TOKEN` | 200 `{head, entries}`; 401 without the token |
//! | `GET /` and `GET /booth/{booth.js, evote.js, strings.js, booth.css, evote_web.wasm}` | the voter's booth (docs/booth.md): the page, compiled into the server, and the WebAssembly module given by [`ServerConfig::booth_module`] (404 without one) |
//!
//! Limits: a request body is at most one ballot (the manifest fixes its length); at most
//! [`MAX_CONNECTIONS`] connections are open at once (one more is closed on accept); a client
//! has [`HEADER_TIMEOUT`] to send a request's headers and [`REQUEST_TIMEOUT`] for the whole
//! request (then 408); at most [`MAX_IN_FLIGHT`] requests are served at once (more get 503);
//! a request waits at most [`REQUEST_TIMEOUT`] for the writer (then 503). No request can panic the server: every
//! refusal is an error answer.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query as UrlQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, Semaphore};

use crate::election::ballot::{CAST_TAIL, CHALLENGE_TAIL};
use crate::election::board::{BoardReader, Entry};
use crate::election::{
    check_ballot_in, BallotBoard, BallotBoxKey, BallotStatus, BoardError, BoardLocation,
    ElectionContext, LookupError, Query, Receipt,
};
use crate::party::{self, hex};

/// The most ballots one `append_many` takes from the queue.
pub const MAX_BATCH: usize = 1000;
/// The most requests served at once.
pub const MAX_IN_FLIGHT: usize = 4096;
/// How long a request waits for the writer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most connections open at once; one more is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long a client may take to send a request's line and headers (from the connection's
/// start, or from the end of its previous request).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The most board bytes one `GET /board` returns.
pub const MAX_BOARD_CHUNK: u64 = 16 << 20;
/// The largest booth module the server loads.
pub const MAX_BOOTH_MODULE: u64 = 16 << 20;

/// The booth page's files, compiled in: the page and the server cannot drift apart.
const BOOTH_FILES: [(&str, &str, &str); 5] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../web/booth/index.html"),
    ),
    (
        "booth.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/booth/booth.js"),
    ),
    (
        "evote.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/booth/evote.js"),
    ),
    (
        "strings.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/booth/strings.js"),
    ),
    (
        "booth.css",
        "text/css; charset=utf-8",
        include_str!("../web/booth/booth.css"),
    ),
];

/// The booth's Content-Security-Policy: its own scripts, styles and module only (no inline
/// script, no other origin), WebAssembly compilation allowed, never framed.
pub const BOOTH_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; \
    base-uri 'none'; frame-ancestors 'none'";

/// What the server needs.
pub struct ServerConfig {
    /// The election folder (after the ceremony).
    pub election: PathBuf,
    /// The board (created with `evote board create`): a file, or a PostgreSQL database.
    pub board: BoardLocation,
    /// The ballot box's key.
    pub key: BallotBoxKey,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The token `POST /admin/close` must present.
    pub admin_token: String,
    /// The most connections open at once ([`MAX_CONNECTIONS`] by default).
    pub max_connections: usize,
    /// How long a client has to send a request's headers ([`HEADER_TIMEOUT`] by default).
    pub header_timeout: Duration,
    /// The booth's WebAssembly module (`web/build.sh` builds it), served at
    /// `/booth/evote_web.wasm`; read once at start, at most [`MAX_BOOTH_MODULE`] bytes. Without
    /// one the page still loads and says that no module is installed.
    pub booth_module: Option<PathBuf>,
}

/// A refusal or failure, as the writer reports it.
struct Refusal {
    status: StatusCode,
    message: String,
}

fn refusal(e: &BoardError) -> Refusal {
    let status = match e {
        // The store failed (a full disk, a database failing over): nothing of this request was
        // acknowledged, and sending it again later is the answer.
        BoardError::Io(_) => StatusCode::SERVICE_UNAVAILABLE,
        BoardError::Corrupt { .. } | BoardError::CorruptAt { .. } | BoardError::Diverged { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        BoardError::Closed => StatusCode::CONFLICT,
        BoardError::Duplicate { .. }
        | BoardError::BallotIdReused { .. }
        | BoardError::ReplayedCiphertext { .. }
        | BoardError::Challenged { .. }
        | BoardError::RevoteRefused { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let message = if status.is_server_error() {
        // The details (paths, database hosts) are the operator's: logged, not sent.
        eprintln!("ballot box: {e}");
        "the ballot box could not store the ballot: nothing was acknowledged; send it again later"
            .to_owned()
    } else {
        e.to_string()
    };
    Refusal { status, message }
}

type Reply<T> = oneshot::Sender<Result<T, Refusal>>;

enum Job {
    Cast(Vec<u8>, Reply<Receipt>),
    Challenge(Vec<u8>, Reply<(Receipt, Vec<Vec<u64>>)>),
    Close(Reply<([u8; 64], u64)>),
    Head(oneshot::Sender<(u64, [u8; 64], bool)>),
}

/// The writer: owns the board, takes jobs in arrival order, casts in batches.
fn writer(mut board: BallotBoard, context: Arc<ElectionContext>, jobs: Receiver<Job>) {
    let mut rng = OsRng;
    while let Ok(first) = jobs.recv() {
        let mut queue = vec![first];
        while queue.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => queue.push(job),
                Err(_) => break,
            }
        }
        let mut casts: Vec<(Vec<u8>, Reply<Receipt>)> = Vec::new();
        for job in queue {
            match job {
                Job::Cast(bytes, reply) => casts.push((bytes, reply)),
                other => {
                    // Keep arrival order: the casts before this job are written first.
                    cast_batch(&mut board, &context, std::mem::take(&mut casts), &mut rng);
                    match other {
                        Job::Challenge(bytes, reply) => {
                            let r = board
                                .challenge(&context, &bytes, &mut rng)
                                .map(|(receipt, opened)| (receipt, opened.selections().to_vec()))
                                .map_err(|e| refusal(&e));
                            let _ = reply.send(r);
                        }
                        Job::Close(reply) => {
                            let r = board
                                .close(&mut rng)
                                .map(|head| (head, board.entries()))
                                .map_err(|e| refusal(&e));
                            let _ = reply.send(r);
                        }
                        Job::Head(reply) => {
                            let _ = reply.send((board.entries(), *board.head(), board.is_closed()));
                        }
                        Job::Cast(..) => {}
                    }
                }
            }
        }
        cast_batch(&mut board, &context, casts, &mut rng);
    }
}

fn cast_batch(
    board: &mut BallotBoard,
    context: &ElectionContext,
    casts: Vec<(Vec<u8>, Reply<Receipt>)>,
    rng: &mut OsRng,
) {
    if casts.is_empty() {
        return;
    }
    let (ballots, replies): (Vec<Vec<u8>>, Vec<Reply<Receipt>>) = casts.into_iter().unzip();
    match board.append_many(context, &ballots, rng) {
        Ok(results) => {
            for (result, reply) in results.into_iter().zip(replies) {
                let _ = reply.send(result.map_err(|e| refusal(&e)));
            }
        }
        Err(e) => {
            // Nothing of the batch was acknowledged (the write failed before its fsync).
            for reply in replies {
                let _ = reply.send(Err(refusal(&e)));
            }
        }
    }
}

#[derive(Clone)]
struct App {
    jobs: SyncSender<Job>,
    context: Arc<ElectionContext>,
    election: Arc<PathBuf>,
    board: Arc<BoardLocation>,
    ballot_box: [u8; 32],
    admin_token: Arc<String>,
    in_flight: Arc<Semaphore>,
    booth_module: Option<Bytes>,
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

#[derive(Serialize)]
struct ReceiptBody {
    entry: u64,
    tracker: String,
    head: String,
    receipt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    selections: Option<Vec<Vec<u64>>>,
}

fn receipt_body(r: &Receipt, selections: Option<Vec<Vec<u64>>>) -> Response {
    (
        StatusCode::CREATED,
        Json(ReceiptBody {
            entry: r.entry,
            tracker: hex(&r.tracker),
            head: hex(&r.head),
            receipt: hex(&r.to_bytes()),
            selections,
        }),
    )
        .into_response()
}

impl App {
    /// Sends a job to the writer and waits (bounded) for its answer.
    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Result<T, Response> {
        let Ok(_permit) = self.in_flight.try_acquire() else {
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests at once",
            ));
        };
        let (tx, rx) = oneshot::channel();
        if self.jobs.try_send(job(tx)).is_err() {
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ballot box is busy",
            ));
        }
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ballot box stopped",
            )),
            Err(_) => Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ballot box did not answer in time",
            )),
        }
    }
}

async fn post_ballot(State(app): State<App>, body: Bytes) -> Response {
    if body.len() as u64 != app.context.manifest().ballot_len() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "a ballot of {} bytes; this election's ballots are {}",
                body.len(),
                app.context.manifest().ballot_len()
            ),
        );
    }
    match app.ask(|tx| Job::Cast(body.to_vec(), tx)).await {
        Ok(Ok(receipt)) => receipt_body(&receipt, None),
        Ok(Err(r)) => error(r.status, r.message),
        Err(response) => response,
    }
}

async fn post_challenge(State(app): State<App>, body: Bytes) -> Response {
    let expected = app.context.manifest().ballot_len() - CAST_TAIL as u64 + CHALLENGE_TAIL as u64;
    if body.len() as u64 != expected {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "a challenged ballot of {} bytes; this election's are {expected}",
                body.len()
            ),
        );
    }
    match app.ask(|tx| Job::Challenge(body.to_vec(), tx)).await {
        Ok(Ok((receipt, selections))) => receipt_body(&receipt, Some(selections)),
        Ok(Err(r)) => error(r.status, r.message),
        Err(response) => response,
    }
}

#[derive(Serialize)]
struct HeadBody {
    entries: u64,
    head: String,
    closed: bool,
}

async fn get_head(State(app): State<App>) -> Response {
    match app.ask(Job::Head).await {
        Ok((entries, head, closed)) => Json(HeadBody {
            entries,
            head: hex(&head),
            closed,
        })
        .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct From {
    from: Option<u64>,
}

/// The board's bytes from entry `from`: found by reading the chain (a reader of the file, never
/// the writer), at most [`MAX_BOARD_CHUNK`] bytes, ending at an entry boundary.
fn board_chunk(path: &Path, from: u64) -> Result<(Vec<u8>, u64), String> {
    use std::io::{Read, Seek, SeekFrom};
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let header = 11 + 1 + 64 + 32;
    let mut reader = BoardReader::new(std::io::BufReader::new(
        file.try_clone().map_err(|e| e.to_string())?,
    ))
    .map_err(|e| e.to_string())?;
    let mut start = if from <= 1 { 0 } else { header };
    let mut end = header;
    let mut next = from.max(1);
    let mut n = 0u64;
    loop {
        let before = end;
        match reader.next_checked() {
            Ok(Some(entry)) => {
                n += 1;
                let len = match &entry {
                    Entry::Ballot { bytes, .. } | Entry::Challenge { bytes, .. } => {
                        bytes.len() as u64 + 9
                    }
                    Entry::Close { .. } => 9,
                };
                end = before + 4 + len + 64;
                if n < from {
                    start = end;
                    continue;
                }
                if end - start > MAX_BOARD_CHUNK && n > from {
                    end = before;
                    break;
                }
                next = n + 1;
            }
            // The end, or a tail still being written: serve what is complete.
            Ok(None) | Err(_) => break,
        }
    }
    let mut file = file;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    let mut bytes = vec![0u8; usize::try_from(end.saturating_sub(start)).unwrap_or(0)];
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    Ok((bytes, next))
}

/// [`board_chunk`] for a board in PostgreSQL: whole entries from `from`, read from the
/// database by a connection of this request's own (no lock).
#[cfg(feature = "postgres")]
fn board_chunk_postgres(url: &str, from: u64) -> Result<(Vec<u8>, u64), String> {
    let mut bytes = crate::election::board_postgres::PostgresBoardBytes::connect(url, from.max(1))
        .map_err(|e| e.to_string())?;
    let chunk = bytes
        .chunk(usize::try_from(MAX_BOARD_CHUNK).unwrap_or(usize::MAX))
        .map_err(|e| e.to_string())?;
    Ok((chunk, bytes.next_entry()))
}

async fn get_board(State(app): State<App>, UrlQuery(q): UrlQuery<From>) -> Response {
    let board = app.board.clone();
    let from = q.from.unwrap_or(1);
    let read = move || match board.as_ref() {
        BoardLocation::File(path) => board_chunk(path, from),
        #[cfg(feature = "postgres")]
        BoardLocation::Postgres(url) => board_chunk_postgres(url, from),
        #[cfg(not(feature = "postgres"))]
        BoardLocation::Postgres(_) => Err("built without PostgreSQL".to_owned()),
    };
    match tokio::task::spawn_blocking(read).await {
        Ok(Ok((bytes, next))) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&next.to_string()) {
                headers.insert("x-evote-next", v);
            }
            (headers, bytes).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the board could not be read",
        ),
    }
}

#[derive(Serialize)]
struct TrackerBody {
    status: &'static str,
    entry: Option<u64>,
}

async fn get_tracker(State(app): State<App>, UrlPath(tracker): UrlPath<String>) -> Response {
    let (context, board) = (app.context.clone(), app.board.clone());
    let answer = tokio::task::spawn_blocking(move || {
        let reader = board.reader().map_err(LookupError::from)?;
        check_ballot_in(&context, reader, &Query::Tracker(tracker), &mut OsRng)
    })
    .await;
    match answer {
        Ok(Ok(check)) => {
            let (status, entry) = match check.status {
                BallotStatus::Counted { entry } => ("counted", Some(entry)),
                BallotStatus::Superseded { entry, .. } => ("superseded", Some(entry)),
                BallotStatus::Challenged { entry, .. } => ("challenged", Some(entry)),
                BallotStatus::Absent => ("absent", None),
            };
            Json(TrackerBody { status, entry }).into_response()
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the lookup failed"),
    }
}

#[derive(Serialize)]
struct ElectionBody {
    election_id: String,
    election_hash: String,
    election_key: String,
    ballot_box_key: String,
    ballot_bytes: u64,
}

async fn get_election(State(app): State<App>) -> Response {
    Json(ElectionBody {
        election_id: app.context.manifest().election_id.clone(),
        election_hash: hex(app.context.hash()),
        election_key: hex(app.context.public_key().as_bytes()),
        ballot_box_key: hex(&app.ballot_box),
        ballot_bytes: app.context.manifest().ballot_len(),
    })
    .into_response()
}

async fn get_election_file(State(app): State<App>, UrlPath(name): UrlPath<String>) -> Response {
    let allowed = [
        party::files::MANIFEST,
        party::files::CEREMONY,
        party::files::CREDENTIALS,
        party::files::CONTEXT,
        party::files::OUTCOME,
    ];
    let Some(name) = allowed.into_iter().find(|a| *a == name) else {
        return error(StatusCode::NOT_FOUND, "no such election file");
    };
    let path = app.election.join(name);
    match tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    {
        Ok(bytes) => bytes.into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Serialize)]
struct ClosedBody {
    head: String,
    entries: u64,
}

async fn post_close(State(app): State<App>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = app.admin_token.as_bytes();
    let same: bool = (presented.len() == expected.len()
        && bool::from(presented.as_bytes().ct_eq(expected)))
        && !expected.is_empty();
    if !same {
        return error(StatusCode::UNAUTHORIZED, "closing needs the admin token");
    }
    match app.ask(Job::Close).await {
        Ok(Ok((head, entries))) => Json(ClosedBody {
            head: hex(&head),
            entries,
        })
        .into_response(),
        Ok(Err(r)) => error(r.status, r.message),
        Err(response) => response,
    }
}

/// The router, with its limits, for a board already opened.
fn router(app: App, max_body: usize) -> Router {
    Router::new()
        .route("/ballots", post(post_ballot))
        .route("/challenges", post(post_challenge))
        .route("/head", get(get_head))
        .route("/board", get(get_board))
        .route("/trackers/{tracker}", get(get_tracker))
        .route("/election", get(get_election))
        .route("/election/{name}", get(get_election_file))
        .route("/admin/close", post(post_close))
        .route("/", get(get_booth_page))
        // Browsers ask for an icon; the booth has none (an empty answer, not a 404).
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/booth/{file}", get(get_booth_file))
        .layer(DefaultBodyLimit::max(max_body))
        // Bounds each request, its body included (a client that sends its headers and then
        // trickles the body), so no request holds a connection slot forever.
        .layer(axum::middleware::from_fn(request_deadline))
        .with_state(app)
}

/// A booth file with the headers a voting page needs: its type, the CSP, no sniffing, no
/// referrer, and no caching (a page from an earlier election must not linger).
fn booth_response(content_type: &'static str, body: Bytes) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(BOOTH_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, body).into_response()
}

async fn get_booth_page() -> Response {
    booth_file("index.html", None)
}

async fn get_booth_file(State(app): State<App>, UrlPath(file): UrlPath<String>) -> Response {
    booth_file(&file, app.booth_module.clone())
}

fn booth_file(name: &str, module: Option<Bytes>) -> Response {
    if name == "evote_web.wasm" {
        return match module {
            Some(bytes) => booth_response("application/wasm", bytes),
            None => error(
                StatusCode::NOT_FOUND,
                "this ballot box serves no booth module (evote board serve --booth-module)",
            ),
        };
    }
    match BOOTH_FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, text)) => {
            booth_response(content_type, Bytes::from_static(text.as_bytes()))
        }
        None => error(StatusCode::NOT_FOUND, "no such booth file"),
    }
}

/// 408 for a request not answered within [`REQUEST_TIMEOUT`].
async fn request_deadline(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            "the request was not complete within the server's time limit",
        ),
    }
}

/// Runs the ballot box until the process is stopped (SIGINT or SIGTERM: the queue is drained
/// and the board closed cleanly; SIGKILL loses nothing acknowledged). `ready` is called with
/// the address actually bound (a port of 0 picks a free one).
///
/// # Errors
/// The election or the board cannot be opened, or the address cannot be bound.
pub fn serve(
    config: ServerConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), party::PartyError> {
    let context = Arc::new(party::election_context(&config.election, &mut OsRng)?);
    let booth_module = match &config.booth_module {
        Some(path) => {
            let bytes = party::read(path, MAX_BOOTH_MODULE)?;
            if bytes.get(..4) != Some(b"\0asm".as_slice()) {
                return Err(format!("{}: not a WebAssembly module", path.display()).into());
            }
            Some(Bytes::from(bytes))
        }
        None => None,
    };
    let board = config
        .board
        .open(&context, config.key)
        .map_err(|e| format!("{}: {e}", config.board))?;
    let ballot_box = board.ballot_box().to_bytes();
    let (jobs, queue) = mpsc::sync_channel(MAX_IN_FLIGHT);
    let writer_context = Arc::clone(&context);
    let writer_thread = std::thread::Builder::new()
        .name("ballot-box writer".into())
        .spawn(move || writer(board, writer_context, queue))?;
    let max_body =
        usize::try_from(context.manifest().ballot_len() - CAST_TAIL as u64 + CHALLENGE_TAIL as u64)
            .unwrap_or(usize::MAX);
    let app = App {
        jobs,
        context,
        election: Arc::new(config.election.clone()),
        board: Arc::new(config.board.clone()),
        ballot_box,
        admin_token: Arc::new(config.admin_token),
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        booth_module,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        ready(listener.local_addr()?);
        let limits = (config.max_connections, config.header_timeout);
        accept_loop(listener, router(app, max_body), limits, shutdown_signal()).await;
        Ok::<(), std::io::Error>(())
    })?;
    // The router (and its senders) are gone: the writer drains the queue and ends, dropping
    // the board (its index log is marked).
    let _ = writer_thread.join();
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Accepts connections until `shutdown`, each served by hyper's HTTP/1.1 connection with a
/// header-read timeout (by default [`HEADER_TIMEOUT`]: a client that opens a connection and
/// sends its request line or headers slowly is dropped), at most `max_connections` at once (a
/// connection beyond that is closed at once: it costs the server one accept), and every
/// request, its body included, bounded by [`REQUEST_TIMEOUT`] (the router's timeout layer).
/// At shutdown no new connection is accepted and the open ones finish the request they are
/// serving (their receipts are sent), for at most [`REQUEST_TIMEOUT`].
async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: Router,
    (max_connections, header_timeout): (usize, Duration),
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let connections = Arc::new(Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or a connection reset before accept: wait a moment
                // rather than spin, and go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, graceful.shutdown()).await;
}

/// A minimal HTTP/1.1 client over one connection (`http://` only), for the voter's CLI, the
/// tests and the load benchmark: no dependency beyond `std`.
pub mod client {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;

    /// One keep-alive connection.
    pub struct Connection {
        reader: BufReader<TcpStream>,
        host: String,
    }

    /// A response: status and body.
    pub struct Response {
        /// The status code.
        pub status: u16,
        /// The body.
        pub body: Vec<u8>,
    }

    impl Connection {
        /// Connects to `host:port`.
        ///
        /// # Errors
        /// I/O errors.
        pub fn open(address: &str) -> std::io::Result<Self> {
            let addr = address
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::other("no address"))?;
            let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            stream.set_nodelay(true)?;
            Ok(Self {
                reader: BufReader::new(stream),
                host: address.to_string(),
            })
        }

        /// Sends one request and reads its response.
        ///
        /// # Errors
        /// I/O errors, or a response this client does not read (chunked encoding).
        pub fn request(
            &mut self,
            method: &str,
            path: &str,
            headers: &[(&str, &str)],
            body: &[u8],
        ) -> std::io::Result<Response> {
            let mut head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
                self.host,
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let stream = self.reader.get_mut();
            stream.write_all(head.as_bytes())?;
            // A server that refuses a body (too large) answers and closes before reading it
            // all: the answer is still there to read.
            match stream.write_all(body) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::BrokenPipe
                        || e.kind() == std::io::ErrorKind::ConnectionReset => {}
                other => other?,
            }
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            let status = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {line:?}")))?;
            let mut length = 0usize;
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if k.eq_ignore_ascii_case("transfer-encoding") {
                        return Err(std::io::Error::other("chunked responses are not read"));
                    }
                }
            }
            let mut body = vec![0u8; length];
            self.reader.read_exact(&mut body)?;
            Ok(Response { status, body })
        }
    }
}
