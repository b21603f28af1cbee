//! The ballot board kept in PostgreSQL (feature `postgres`): the second board store (`board_store::Store`).
//!
//! The rules stay in [`BallotBoard`]; the database holds the entries with their chain hashes
//! and the indices as tables with unique constraints, so the ballot box's memory does not grow
//! with the board, a restart reads one row, and with synchronous streaming replication a
//! receipt is issued only once its entry is on two machines. docs/board-postgres.md has the
//! schema, the settings and what each risks.
//!
//! # One writer, provably
//! A writer holds a session-level advisory lock ([`LOCK_KEY`]) for as long as its connection
//! lives: a second writer is refused at open ([`BoardError::Locked`]). Independently of the
//! lock, every commit re-reads the last entry inside its transaction and refuses to write
//! unless it is the writer's own head ([`BoardError::Diverged`]), and entry numbers are the
//! primary key: two writers can never fork the chain, whatever happens to the lock.
//!
//! # Durability
//! A commit (`Store::commit`) writes a whole batch in one transaction and returns only after `COMMIT`
//! returned. What `COMMIT` waits for is the server's `synchronous_commit` with
//! `synchronous_standby_names`: with a synchronous standby and `on` (or `remote_apply`) the
//! entries are flushed on both machines before a receipt exists.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::str::FromStr;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::ballot::Body;
use super::board::{
    chain, genesis, BallotBoard, BallotBoxKey, BoardError, BoardReader, BOARD_VERSION, KIND_CLOSE,
    MAGIC,
};
use super::board_store::{Held, Hit, Staged, Store, Tip};
use super::context::ElectionContext;
use super::receipt::SignedHead;
use crate::keys::PublicKey;

/// The advisory lock a writer holds on its database (`"evoteBD1"` as a big-endian integer).
pub const LOCK_KEY: i64 = 0x6576_6f74_6542_4431;
/// The transaction-level lock that serialises schema migrations.
const MIGRATION_LOCK_KEY: i64 = LOCK_KEY + 1;
/// The schema version this program writes; `open` migrates older ones and refuses newer.
pub const SCHEMA_VERSION: i32 = 2;
/// Each migration, from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE evote_board (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    election   bytea NOT NULL CHECK (length(election) = 64),
    ballot_box bytea NOT NULL CHECK (length(ballot_box) = 32),
    genesis    bytea NOT NULL CHECK (length(genesis) = 64)
);
CREATE TABLE evote_entries (
    number  bigint PRIMARY KEY CHECK (number >= 1),
    kind    smallint NOT NULL CHECK (kind IN (1, 2, 3)),
    payload bytea NOT NULL,
    hash    bytea NOT NULL CHECK (length(hash) = 64)
);
CREATE TABLE evote_trackers (
    tracker   bytea PRIMARY KEY,
    entry     bigint NOT NULL REFERENCES evote_entries,
    challenge boolean NOT NULL
);
CREATE TABLE evote_ballot_ids (
    scoped_id bytea PRIMARY KEY,
    entry     bigint NOT NULL REFERENCES evote_entries,
    challenge boolean NOT NULL
);
CREATE TABLE evote_ciphertexts (
    alpha     bytea PRIMARY KEY,
    entry     bigint NOT NULL REFERENCES evote_entries,
    challenge boolean NOT NULL
);
CREATE TABLE evote_casts (
    credential bytea NOT NULL,
    entry      bigint NOT NULL REFERENCES evote_entries,
    PRIMARY KEY (credential, entry)
);
",
    "
CREATE TABLE evote_head (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    entries   bigint NOT NULL CHECK (entries >= 1),
    hash      bytea NOT NULL CHECK (length(hash) = 64),
    signature bytea NOT NULL CHECK (length(signature) = 64)
);
",
];

/// Entries read per query when streaming the board's bytes.
const PAGE: i64 = 512;

/// A client error with what the server or the connection said (the error's own text is only
/// "db error" for the server's messages).
fn db(e: postgres::Error) -> BoardError {
    let said = match e.as_db_error() {
        Some(d) => format!("{}: {} ({})", d.severity(), d.message(), d.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                text = format!("{text}: {inner}");
                source = inner.source();
            }
            text
        }
    };
    BoardError::Io(std::io::Error::other(format!("PostgreSQL: {said}")))
}

/// `host[:port][,host[:port]...]/dbname` of a connection string: for messages, never the
/// password.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    format!(
        "postgres {}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

fn invalid(message: String) -> BoardError {
    BoardError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message,
    ))
}

/// Where and how to connect: the client's settings, and TLS when `sslmode=require`.
struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
}

/// Removes `name=value` from a connection string (URL query or `key=value` words) and returns
/// the rest and the value. (`sslrootcert` is libpq's name for the trusted certificates; the
/// client library does not know it.)
fn take_parameter(url: &str, name: &str) -> (String, Option<String>) {
    let prefix = format!("{name}=");
    if let Some((base, query)) = url.split_once('?') {
        let mut found = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.strip_prefix(&prefix) {
                Some(value) => {
                    found = Some(percent_decode(value));
                    false
                }
                None => true,
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rest, found)
    } else if url.contains("://") {
        (url.to_owned(), None)
    } else {
        let mut found = None;
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|word| match word.strip_prefix(&prefix) {
                Some(value) => {
                    found = Some(value.to_owned());
                    false
                }
                None => true,
            })
            .collect();
        (kept.join(" "), found)
    }
}

/// `%XX` escapes of a URL's query value.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A TLS connector that trusts the certificates of the PEM file `roots`, or the system's.
fn tls(roots: Option<&str>) -> Result<MakeRustlsConnect, BoardError> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
                store
                    .add(certificate)
                    .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            for certificate in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot use is skipped, not fatal.
                let _ = store.add(certificate);
            }
        }
    }
    if store.is_empty() {
        return Err(invalid(
            "sslmode=require: no trusted certificate (give sslrootcert=FILE)".to_owned(),
        ));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS: {e}")))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn target(url: &str) -> Result<Target, BoardError> {
    let (rest, roots) = take_parameter(url, "sslrootcert");
    let config = Config::from_str(&rest)
        .map_err(|e| invalid(format!("not a PostgreSQL connection string: {e}")))?;
    let tls = match config.get_ssl_mode() {
        SslMode::Require => Some(tls(roots.as_deref())?),
        _ if roots.is_some() => {
            return Err(invalid(
                "sslrootcert is given but sslmode is not require: TLS would not be used".to_owned(),
            ))
        }
        _ => None,
    };
    Ok(Target { config, tls })
}

/// Connects (the first host that accepts, in the connection string's order; with
/// `target_session_attrs=read-write` the primary), over TLS when `sslmode=require`.
fn connect(target: &Target) -> Result<Client, BoardError> {
    match &target.tls {
        Some(tls) => target.config.connect(tls.clone()),
        None => target.config.connect(NoTls),
    }
    .map_err(db)
}

/// Creates or migrates the schema to [`SCHEMA_VERSION`], one migration at a time, each in its
/// transaction under a lock (two programs starting at once migrate once).
fn migrate(client: &mut Client) -> Result<(), BoardError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .map_err(db)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS evote_schema (version integer NOT NULL)")
        .map_err(db)?;
    let version: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM evote_schema", &[])
        .map_err(db)?
        .get(0);
    if version > SCHEMA_VERSION {
        return Err(BoardError::WrongBoard {
            reason: "the database's board schema is newer than this program's",
        });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).map_err(db)?;
        let to = from as i32 + 1;
        tx.execute("INSERT INTO evote_schema (version) VALUES ($1)", &[&to])
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// Takes the writer's lock for the connection's lifetime, or refuses.
fn lock(client: &mut Client) -> Result<(), BoardError> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
        .map_err(db)?
        .get(0);
    if locked {
        Ok(())
    } else {
        Err(BoardError::Locked)
    }
}

/// A board's row: election hash and ballot box key, as stored.
type BoardRow = (Vec<u8>, Vec<u8>);

/// The unique keys of a body: tracker, scoped ballot id, ciphertext keys.
type BodyKeys = ([u8; 64], [u8; 32], Vec<[u8; 16]>);

/// The board's row: (election, ballot box).
fn board_row(client: &mut Client) -> Result<Option<BoardRow>, BoardError> {
    Ok(client
        .query_opt("SELECT election, ballot_box FROM evote_board", &[])
        .map_err(db)?
        .map(|r| (r.get(0), r.get(1))))
}

fn array64(bytes: &[u8], entry: u64) -> Result<[u8; 64], BoardError> {
    bytes.try_into().map_err(|_| BoardError::Corrupt {
        entry,
        reason: "a stored hash is not 64 bytes",
    })
}

fn entry_number(n: i64) -> Result<u64, BoardError> {
    u64::try_from(n).map_err(|_| BoardError::Corrupt {
        entry: 0,
        reason: "a stored entry number is negative",
    })
}

fn sql_number(n: u64) -> Result<i64, BoardError> {
    i64::try_from(n).map_err(|_| BoardError::Corrupt {
        entry: n,
        reason: "an entry number beyond PostgreSQL's bigint",
    })
}

/// The board in PostgreSQL.
pub(crate) struct PgStore {
    target: Target,
    described: String,
    /// `None` after the connection failed: the next operation reconnects.
    client: Option<Client>,
    election: [u8; 64],
    ballot_box: PublicKey,
    genesis: [u8; 64],
    tip: Tip,
}

impl PgStore {
    /// Connects, migrates, takes the writer's lock and creates the board's row.
    pub(crate) fn create(
        url: &str,
        context: &ElectionContext,
        key: &BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let target = target(url)?;
        let mut client = connect(&target)?;
        migrate(&mut client)?;
        lock(&mut client)?;
        if board_row(&mut client)?.is_some() {
            return Err(BoardError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "this database already holds a board (one board per database)",
            )));
        }
        let genesis = genesis(context.hash(), key.public());
        client
            .execute(
                "INSERT INTO evote_board (election, ballot_box, genesis) VALUES ($1, $2, $3)",
                &[
                    &context.hash().as_slice(),
                    &key.public().as_bytes().as_slice(),
                    &genesis.as_slice(),
                ],
            )
            .map_err(db)?;
        Ok(Self {
            described: describe(&target.config),
            target,
            client: Some(client),
            election: *context.hash(),
            ballot_box: *key.public(),
            genesis,
            tip: Tip::empty(genesis),
        })
    }

    /// Connects, migrates, takes the writer's lock and reads the board's state (one row: the
    /// last entry, whose hash is checked against its predecessor's).
    pub(crate) fn open(
        url: &str,
        context: &ElectionContext,
        key: &BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let target = target(url)?;
        let mut store = Self {
            described: describe(&target.config),
            target,
            client: None,
            election: *context.hash(),
            ballot_box: *key.public(),
            genesis: genesis(context.hash(), key.public()),
            tip: Tip::empty([0; 64]),
        };
        store.client = Some(store.reconnect()?);
        Ok(store)
    }

    /// A fresh connection with the lock taken and the state read from the database.
    fn reconnect(&mut self) -> Result<Client, BoardError> {
        let mut client = connect(&self.target)?;
        migrate(&mut client)?;
        lock(&mut client)?;
        match board_row(&mut client)? {
            None => {
                return Err(BoardError::WrongBoard {
                    reason: "the database holds no board (create it first)",
                })
            }
            Some((election, ballot_box)) => {
                if election.as_slice() != self.election.as_slice() {
                    return Err(BoardError::WrongBoard {
                        reason: "the board belongs to another election",
                    });
                }
                if ballot_box.as_slice() != self.ballot_box.as_bytes().as_slice() {
                    return Err(BoardError::WrongBoard {
                        reason: "the board was written under another ballot box key",
                    });
                }
            }
        }
        let (entries, head, closed) = last_entry(&mut client, &self.genesis)?;
        check_signed(
            &mut client,
            entries,
            &head,
            &self.election,
            &self.ballot_box,
        )?;
        self.tip = Tip {
            head,
            entries,
            closed,
        };
        Ok(client)
    }

    /// The connection, reconnecting (and re-reading the state) after a failure.
    fn client(&mut self) -> Result<&mut Client, BoardError> {
        let alive = self.client.as_ref().is_some_and(|c| !c.is_closed());
        if !alive {
            self.client = None;
            let client = self.reconnect()?;
            self.client = Some(client);
        }
        self.client.as_mut().ok_or(BoardError::Locked)
    }

    /// Runs `f` on the connection; a failed connection is dropped (the next call reconnects).
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, BoardError>,
    ) -> Result<T, BoardError> {
        let result = f(self.client()?);
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        result
    }
}

/// The last entry's number, hash and whether it is the close, checked against its
/// predecessor (or the genesis).
fn last_entry(
    client: &mut Client,
    genesis: &[u8; 64],
) -> Result<(u64, [u8; 64], bool), BoardError> {
    let rows = client
        .query(
            "SELECT number, kind, payload, hash FROM evote_entries ORDER BY number DESC LIMIT 2",
            &[],
        )
        .map_err(db)?;
    let Some(last) = rows.first() else {
        return Ok((0, *genesis, false));
    };
    let number = entry_number(last.get(0))?;
    let kind: i16 = last.get(1);
    let payload: Vec<u8> = last.get(2);
    let hash = array64(last.get(3), number)?;
    let previous = match rows.get(1) {
        Some(row) => {
            let n = entry_number(row.get(0))?;
            if n + 1 != number {
                return Err(BoardError::Corrupt {
                    entry: number,
                    reason: "the entries are not numbered consecutively",
                });
            }
            array64(row.get(3), n)?
        }
        None if number == 1 => *genesis,
        None => {
            return Err(BoardError::Corrupt {
                entry: number,
                reason: "the entries are not numbered consecutively",
            })
        }
    };
    if chain(&previous, &payload) != hash || payload.get(..8) != Some(&number.to_le_bytes()[..]) {
        return Err(BoardError::Corrupt {
            entry: number,
            reason: "the last entry does not chain",
        });
    }
    Ok((number, hash, kind == i16::from(KIND_CLOSE)))
}

/// The ballot box's signed head as stored (none before the first entry).
fn signed_head(client: &mut Client) -> Result<Option<SignedHead>, BoardError> {
    let Some(row) = client
        .query_opt("SELECT entries, hash, signature FROM evote_head", &[])
        .map_err(db)?
    else {
        return Ok(None);
    };
    let entries = entry_number(row.get(0))?;
    Ok(Some(SignedHead {
        entries,
        head: array64(row.get(1), entries)?,
        signature: array64(row.get(2), entries)?,
    }))
}

/// Refuses a state (`entries` ending in `head`) that the ballot box `ballot_box` did not sign:
/// anyone who can write to the database can append a correctly chained entry, but only the
/// ballot box key signs the head that covers it.
fn check_signed(
    client: &mut Client,
    entries: u64,
    head: &[u8; 64],
    election: &[u8; 64],
    ballot_box: &PublicKey,
) -> Result<(), BoardError> {
    match signed_head(client)? {
        None if entries == 0 => Ok(()),
        Some(s) if s.entries == entries && &s.head == head && s.verifies(election, ballot_box) => {
            Ok(())
        }
        _ => Err(BoardError::Corrupt {
            entry: entries,
            reason: "the board's state is not signed by the ballot box \
                     (an entry written or removed without its key)",
        }),
    }
}

/// Looks up `keys` in `table.column`: value → (entry, challenge).
fn lookup(
    client: &mut Client,
    sql: &str,
    keys: &[&[u8]],
) -> Result<HashMap<Vec<u8>, (u64, bool)>, BoardError> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    for row in client.query(sql, &[&keys]).map_err(db)? {
        let key: Vec<u8> = row.get(0);
        out.insert(key, (entry_number(row.get(1))?, row.get(2)));
    }
    Ok(out)
}

impl Store for PgStore {
    fn tip(&self) -> &Tip {
        &self.tip
    }

    fn conflicts(&mut self, bodies: &[&Body]) -> Result<Vec<Option<Hit>>, BoardError> {
        let keys: Vec<BodyKeys> = bodies
            .iter()
            .map(|b| (b.tracker(), b.scoped_id(), b.alpha_keys()))
            .collect();
        let trackers: Vec<&[u8]> = keys.iter().map(|k| k.0.as_slice()).collect();
        let ids: Vec<&[u8]> = keys.iter().map(|k| k.1.as_slice()).collect();
        let alphas: Vec<&[u8]> = keys
            .iter()
            .flat_map(|k| k.2.iter().map(|a| a.as_slice()))
            .collect();
        let (trackers, ids, alphas) = self.with(|c| {
            Ok((
                lookup(
                    c,
                    "SELECT tracker, entry, challenge FROM evote_trackers WHERE tracker = ANY($1)",
                    &trackers,
                )?,
                lookup(
                    c,
                    "SELECT scoped_id, entry, challenge FROM evote_ballot_ids \
                     WHERE scoped_id = ANY($1)",
                    &ids,
                )?,
                lookup(
                    c,
                    "SELECT alpha, entry, challenge FROM evote_ciphertexts WHERE alpha = ANY($1)",
                    &alphas,
                )?,
            ))
        })?;
        let hit = |held, found: Option<&(u64, bool)>| {
            found.map(|&(entry, challenge)| Hit {
                held,
                entry,
                challenge,
            })
        };
        Ok(keys
            .iter()
            .map(|(tracker, id, alpha_keys)| {
                hit(Held::Tracker, trackers.get(tracker.as_slice()))
                    .or_else(|| hit(Held::BallotId, ids.get(id.as_slice())))
                    .or_else(|| {
                        alpha_keys
                            .iter()
                            .find_map(|a| hit(Held::Ciphertext, alphas.get(a.as_slice())))
                    })
            })
            .collect())
    }

    fn casts(&mut self, credentials: &[&PublicKey]) -> Result<Vec<Vec<u64>>, BoardError> {
        let keys: Vec<&[u8]> = credentials
            .iter()
            .map(|c| c.as_bytes().as_slice())
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.with(|c| {
            c.query(
                "SELECT credential, entry FROM evote_casts WHERE credential = ANY($1) \
                 ORDER BY entry",
                &[&keys],
            )
            .map_err(db)
        })?;
        let mut by: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
        for row in rows {
            by.entry(row.get(0))
                .or_default()
                .push(entry_number(row.get(1))?);
        }
        Ok(credentials
            .iter()
            .map(|c| by.get(c.as_bytes().as_slice()).cloned().unwrap_or_default())
            .collect())
    }

    fn commit(
        &mut self,
        staged: &[Staged<'_>],
        sign: &mut dyn FnMut() -> SignedHead,
    ) -> Result<(), BoardError> {
        if staged.is_empty() {
            return Ok(());
        }
        let signed = sign();
        let mut numbers = Vec::with_capacity(staged.len());
        let mut kinds = Vec::with_capacity(staged.len());
        let mut payloads: Vec<&[u8]> = Vec::with_capacity(staged.len());
        let mut hashes: Vec<&[u8]> = Vec::with_capacity(staged.len());
        // (key, entry, challenge) rows of each index; a body's own repeated ciphertext keys
        // are one row (the rules refuse repeats across entries, not within one).
        let mut trackers: (Vec<Vec<u8>>, Vec<i64>, Vec<bool>) = Default::default();
        let mut ids: (Vec<Vec<u8>>, Vec<i64>, Vec<bool>) = Default::default();
        let mut alphas: (Vec<Vec<u8>>, Vec<i64>, Vec<bool>) = Default::default();
        let mut casts: (Vec<Vec<u8>>, Vec<i64>) = Default::default();
        for s in staged {
            let number = sql_number(s.number)?;
            numbers.push(number);
            kinds.push(i16::from(s.kind));
            payloads.push(&s.payload);
            hashes.push(&s.hash);
            if let Some(body) = s.body {
                let challenge = s.credential.is_none();
                trackers.0.push(body.tracker().to_vec());
                trackers.1.push(number);
                trackers.2.push(challenge);
                ids.0.push(body.scoped_id().to_vec());
                ids.1.push(number);
                ids.2.push(challenge);
                let mut own = body.alpha_keys();
                own.sort_unstable();
                own.dedup();
                for a in own {
                    alphas.0.push(a.to_vec());
                    alphas.1.push(number);
                    alphas.2.push(challenge);
                }
            }
            if let Some(credential) = s.credential {
                casts.0.push(credential.as_bytes().to_vec());
                casts.1.push(number);
            }
        }
        let (expected, head) = (self.tip.entries, self.tip.head);
        let genesis = self.genesis;
        self.with(|c| {
            let mut tx = c.transaction().map_err(db)?;
            // The chain continues from this writer's head, or nothing is written.
            let last = tx
                .query_opt(
                    "SELECT number, hash FROM evote_entries ORDER BY number DESC LIMIT 1",
                    &[],
                )
                .map_err(db)?;
            let (stored, stored_head) = match &last {
                Some(row) => {
                    let n = entry_number(row.get(0))?;
                    (n, array64(row.get(1), n)?)
                }
                None => (0, genesis),
            };
            if stored != expected || stored_head != head {
                return Err(BoardError::Diverged { entries: stored });
            }
            tx.execute(
                "INSERT INTO evote_entries (number, kind, payload, hash) \
                 SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bytea[], $4::bytea[])",
                &[&numbers, &kinds, &payloads, &hashes],
            )
            .map_err(db)?;
            for (table, column, rows) in [
                ("evote_trackers", "tracker", &trackers),
                ("evote_ballot_ids", "scoped_id", &ids),
                ("evote_ciphertexts", "alpha", &alphas),
            ] {
                if !rows.0.is_empty() {
                    tx.execute(
                        &format!(
                            "INSERT INTO {table} ({column}, entry, challenge) \
                             SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::boolean[])"
                        ),
                        &[&rows.0, &rows.1, &rows.2],
                    )
                    .map_err(db)?;
                }
            }
            if !casts.0.is_empty() {
                tx.execute(
                    "INSERT INTO evote_casts (credential, entry) \
                     SELECT * FROM unnest($1::bytea[], $2::bigint[])",
                    &[&casts.0, &casts.1],
                )
                .map_err(db)?;
            }
            tx.execute(
                "INSERT INTO evote_head (one, entries, hash, signature) \
                 VALUES (true, $1, $2, $3) ON CONFLICT (one) DO UPDATE \
                 SET entries = EXCLUDED.entries, hash = EXCLUDED.hash, \
                 signature = EXCLUDED.signature",
                &[
                    &sql_number(signed.entries)?,
                    &signed.head.as_slice(),
                    &signed.signature.as_slice(),
                ],
            )
            .map_err(db)?;
            // Returns once the server's synchronous_commit is satisfied (module docs).
            tx.commit().map_err(db)
        })
        .inspect_err(|_| {
            // Whether a failed COMMIT landed is unknown: the next operation reconnects and
            // reads the head back from the database.
            self.client = None;
        })?;
        self.tip.after(staged);
        Ok(())
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

impl BallotBoard {
    /// Creates an empty board in the PostgreSQL database of `url` (a connection string, e.g.
    /// `postgres://evote@127.0.0.1/board`), creating the schema; refuses a database that
    /// already holds a board.
    ///
    /// # Errors
    /// Connection or SQL errors ([`BoardError::Io`]); [`BoardError::Locked`] if a writer holds
    /// the database.
    pub fn create_postgres(
        url: &str,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let store = PgStore::create(url, context, &key)?;
        Ok(Self::over(Box::new(store), context, key))
    }

    /// Opens the board in the PostgreSQL database of `url` to write to it, migrating an older
    /// schema. Nothing is replayed: the state is the last entry's row.
    ///
    /// # Errors
    /// [`BoardError::WrongBoard`] for another election's board, another ballot box key or no
    /// board; [`BoardError::Locked`] if another writer holds it; [`BoardError::Corrupt`] if the
    /// last entry does not chain; connection or SQL errors ([`BoardError::Io`]).
    pub fn open_postgres(
        url: &str,
        context: &ElectionContext,
        key: BallotBoxKey,
    ) -> Result<Self, BoardError> {
        let store = PgStore::open(url, context, &key)?;
        Ok(Self::over(Box::new(store), context, key))
    }
}

/// The board's bytes as the board file holds them, streamed from the database: the header
/// (when reading from entry 1), then `LE32(len) ‖ payload ‖ h_i` for each entry in order. A
/// reader, taking no lock: it sees every entry committed before each page it reads.
pub struct PostgresBoardBytes {
    client: Client,
    next: u64,
    /// The last entry to read (all by default).
    last: i64,
    buffer: Vec<u8>,
    position: usize,
    done: bool,
}

impl core::fmt::Debug for PostgresBoardBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresBoardBytes")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl PostgresBoardBytes {
    /// Connects to `url` and starts at entry `from` (≥ 1; the header comes first for 1).
    ///
    /// # Errors
    /// Connection errors; [`BoardError::WrongBoard`] if the database holds no board.
    pub fn connect(url: &str, from: u64) -> Result<Self, BoardError> {
        let mut client = connect(&target(url)?)?;
        let mut buffer = Vec::new();
        if from <= 1 {
            let row = client
                .query_opt("SELECT election, ballot_box FROM evote_board", &[])
                .map_err(db)?
                .ok_or(BoardError::WrongBoard {
                    reason: "the database holds no board",
                })?;
            let (election, ballot_box): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
            buffer.extend_from_slice(MAGIC);
            buffer.push(BOARD_VERSION);
            buffer.extend_from_slice(&election);
            buffer.extend_from_slice(&ballot_box);
        }
        Ok(Self {
            client,
            next: from.max(1),
            last: i64::MAX,
            buffer,
            position: 0,
            done: false,
        })
    }

    /// The number of the next entry not yet in the bytes read.
    pub fn next_entry(&self) -> u64 {
        self.next
    }

    /// The next page of entries from `self.next`, each encoded as in the file.
    fn page(&mut self) -> Result<Vec<Vec<u8>>, BoardError> {
        if self.done {
            return Ok(Vec::new());
        }
        let from = sql_number(self.next)?;
        let rows = self
            .client
            .query(
                "SELECT number, payload, hash FROM evote_entries \
                 WHERE number >= $1 AND number <= $3 ORDER BY number LIMIT $2",
                &[&from, &PAGE, &self.last],
            )
            .map_err(db)?;
        if (rows.len() as i64) < PAGE {
            self.done = true;
        }
        let mut expected = self.next;
        rows.iter()
            .map(|row| {
                let number = entry_number(row.get(0))?;
                if number != expected {
                    return Err(BoardError::Corrupt {
                        entry: expected,
                        reason: "the entries are not numbered consecutively",
                    });
                }
                expected += 1;
                let payload: &[u8] = row.get(1);
                let hash: &[u8] = row.get(2);
                let len = u32::try_from(payload.len()).map_err(|_| BoardError::Corrupt {
                    entry: number,
                    reason: "an entry longer than a board entry can be",
                })?;
                let mut entry = Vec::with_capacity(4 + payload.len() + hash.len());
                entry.extend_from_slice(&len.to_le_bytes());
                entry.extend_from_slice(payload);
                entry.extend_from_slice(hash);
                Ok(entry)
            })
            .collect()
    }

    /// Reads the next page of entries into the buffer (false at the end).
    fn fill(&mut self) -> Result<bool, BoardError> {
        let page = self.page()?;
        self.buffer.clear();
        self.position = 0;
        self.next += page.len() as u64;
        for entry in &page {
            self.buffer.extend_from_slice(entry);
        }
        Ok(!page.is_empty())
    }

    /// Whole entries from here (after the header, when starting at entry 1), at most `max`
    /// bytes unless the first entry alone is longer. Not to be mixed with [`Read`].
    ///
    /// # Errors
    /// Connection or SQL errors; [`BoardError::Corrupt`] for a gap in the numbering.
    pub fn chunk(&mut self, max: usize) -> Result<Vec<u8>, BoardError> {
        let mut out: Vec<u8> = self
            .buffer
            .drain(self.position.min(self.buffer.len())..)
            .collect();
        self.buffer.clear();
        self.position = 0;
        let mut any = false;
        loop {
            let page = self.page()?;
            if page.is_empty() {
                return Ok(out);
            }
            for entry in page {
                if any && out.len() + entry.len() > max {
                    // The rest is read again by the next request.
                    self.done = false;
                    return Ok(out);
                }
                out.extend_from_slice(&entry);
                self.next += 1;
                any = true;
            }
        }
    }
}

impl Read for PostgresBoardBytes {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.buffer.len() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(BoardError::Io(e)) => return Err(e),
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        let rest = self.buffer.get(self.position..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out.get_mut(..n)
            .unwrap_or(&mut [])
            .copy_from_slice(rest.get(..n).unwrap_or(&[]));
        self.position += n;
        Ok(n)
    }
}

/// Writes the board held in the database of `url` to `out` as the board file's exact bytes,
/// up to the head the ballot box last signed, then reads them back through [`BoardReader`]
/// (header, every entry's chain) and checks that signature under the header's key: returns the
/// number of entries and the head.
///
/// # Errors
/// Connection or SQL errors; I/O errors writing; [`BoardError::Corrupt`] for an entry that does
/// not chain, or a head the ballot box did not sign.
pub fn export_postgres(url: &str, out: &std::path::Path) -> Result<(u64, [u8; 64]), BoardError> {
    let mut bytes = PostgresBoardBytes::connect(url, 1)?;
    let signed = signed_head(&mut bytes.client)?;
    let signed_entries = signed.as_ref().map_or(0, |s| s.entries);
    bytes.last = sql_number(signed_entries)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)?;
    let checked = (|| {
        std::io::copy(&mut bytes, &mut file)?;
        file.flush()?;
        file.sync_all()?;
        let mut reader = BoardReader::new(std::io::BufReader::new(std::fs::File::open(out)?))?;
        let mut entries = 0;
        while reader.next_checked()?.is_some() {
            entries += 1;
        }
        let unsigned = BoardError::Corrupt {
            entry: entries,
            reason: "the exported head is not the one the ballot box signed",
        };
        match &signed {
            None if entries == 0 => {}
            Some(s)
                if s.entries == entries
                    && &s.head == reader.head()
                    && s.verifies(reader.election(), reader.ballot_box()) => {}
            _ => return Err(unsigned),
        }
        // An entry past the signed head while the signed head has not moved (no writer of the
        // box appended meanwhile) is one the ballot box never signed.
        let stored: Option<i64> = bytes
            .client
            .query_one("SELECT max(number) FROM evote_entries", &[])
            .map_err(db)?
            .get(0);
        if stored.map(entry_number).transpose()?.unwrap_or(0) > entries
            && signed_head(&mut bytes.client)? == signed
        {
            return Err(BoardError::Corrupt {
                entry: entries + 1,
                reason: "an entry past the head the ballot box signed",
            });
        }
        Ok((entries, *reader.head()))
    })();
    if checked.is_err() {
        // No board file is left that could be taken for the board.
        let _ = std::fs::remove_file(out);
    }
    checked
}
