//! The election record: everything a verifier needs, in one directory.
//!
//! `docs/record.md` gives the format. Small objects are JSON (`record.json`, `manifest.json`,
//! `results.json`) for people; everything that is hashed or verified is canonical binary, and the
//! board (cast and challenged ballots, all entries of its chain) and the decryption shares are
//! streams that are written and read one record at a time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use super::board::BoardReader;
use super::context::ElectionContext;
use super::credentials::CredentialList;
use super::manifest::Manifest;
use super::results::ElectionResults;
use crate::ceremony::CeremonyTranscript;
use crate::decryption::{CandidateShare, EncryptedTally};
use crate::errors::DecodeError;

/// The record format's version.
pub const RECORD_VERSION: u32 = 2;

/// File names inside a record directory.
pub mod files {
    /// The index: version, identifiers and every file's SHA-512.
    pub const INDEX: &str = "record.json";
    /// The manifest (JSON; hashed in its canonical binary form).
    pub const MANIFEST: &str = "manifest.json";
    /// The ceremony transcript (binary).
    pub const CEREMONY: &str = "ceremony.bin";
    /// The credential list (binary).
    pub const CREDENTIALS: &str = "credentials.bin";
    /// The ballot board (the board file itself, challenges included).
    pub const BOARD: &str = "board.bin";
    /// The encrypted tally (binary).
    pub const TALLY: &str = "tally.bin";
    /// The guardians' decryption shares (stream).
    pub const SHARES: &str = "shares.bin";
    /// The results (JSON).
    pub const RESULTS: &str = "results.json";
    /// Every file listed in the index, in order.
    pub const ALL: [&str; 7] = [
        MANIFEST,
        CEREMONY,
        CREDENTIALS,
        BOARD,
        TALLY,
        SHARES,
        RESULTS,
    ];
}

/// `record.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordIndex {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The election's id.
    pub election_id: String,
    /// `H_E`, hex.
    pub election_hash: String,
    /// The board's final head, hex.
    pub board_head: String,
    /// SHA-512 of each file, hex, by name.
    pub files: BTreeMap<String, String>,
}

/// Why a record could not be written or read.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordError {
    /// A file is missing or unreadable.
    Io {
        /// The file.
        file: String,
        /// The error.
        error: std::io::Error,
    },
    /// A JSON file does not parse.
    Json {
        /// The file.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A binary object does not decode.
    Decode {
        /// The file.
        file: String,
        /// The error.
        error: DecodeError,
    },
    /// The record's parts do not make its election: the context cannot be built, or its hash
    /// is not the recorded one.
    Context {
        /// What is wrong.
        reason: String,
    },
    /// The record's version is not one this library reads.
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A record file is not a regular file (a symbolic link, a folder, a FIFO, a device, a
    /// socket): a record is read from regular files only, never through a link.
    NotARegularFile {
        /// The file.
        file: String,
        /// What it is.
        kind: &'static str,
    },
    /// A record file is longer than its format allows (or grew while it was read).
    TooLarge {
        /// The file.
        file: String,
        /// The most its format allows, in bytes.
        max: u64,
        /// Its length (at least).
        actual: u64,
    },
    /// The machine failed the reader, not the record: the verifier's temporary folder is
    /// missing, full or unwritable.
    Environment {
        /// What failed, naming the folder.
        what: String,
        /// The error.
        error: std::io::Error,
    },
    /// The partials of a sharded verification are not exactly the shards of this record, or
    /// one is not a partial (docs/verifier.md, *Sharded verification*).
    Partial {
        /// What is wrong.
        reason: String,
    },
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io { file, error } => write!(f, "{file}: {error}"),
            Self::Json { file, message } => write!(f, "{file}: {message}"),
            Self::Decode { file, error } => write!(f, "{file}: {error}"),
            Self::Context { reason } => write!(f, "election context: {reason}"),
            Self::UnsupportedVersion { version } => {
                write!(f, "record version {version} is not supported (this library reads {RECORD_VERSION})")
            }
            Self::NotARegularFile { file, kind } => {
                write!(f, "{file}: a {kind}, not a regular file; a record is read from regular files only")
            }
            Self::TooLarge { file, max, actual } => write!(
                f,
                "{file}: {actual} bytes or more, but its format allows at most {max}"
            ),
            Self::Environment { what, error } => write!(f, "{what}: {error}"),
            Self::Partial { reason } => write!(f, "sharded verification: {reason}"),
        }
    }
}

impl std::error::Error for RecordError {}

fn io(file: &str) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |error| RecordError::Io {
        file: file.to_string(),
        error,
    }
}

pub use crate::text::to_hex;

/// The longest `record.json` read: seven file hashes and two identifiers need a few KiB.
pub const MAX_INDEX_BYTES: u64 = 1 << 20;

/// The longest JSON text of a manifest or of results: every name of the largest manifest
/// ([`MAX_CONTESTS`](super::manifest::MAX_CONTESTS) contests of
/// [`MAX_OPTIONS`](super::manifest::MAX_OPTIONS) options, plus each contest's id and title and
/// the election's), each at most `2·MAX_NAME_BYTES` once escaped, with 64 bytes of layout per
/// name (indentation, quotes, a count), and 64 KiB for the rest.
pub const MAX_JSON_BYTES: u64 = {
    use super::manifest::{MAX_CONTESTS, MAX_NAME_BYTES, MAX_OPTIONS};
    let names = (MAX_CONTESTS * MAX_OPTIONS + 2 * MAX_CONTESTS + 2) as u64;
    names * (2 * MAX_NAME_BYTES as u64 + 64) + (64 << 10)
};

/// The most credentials a record lists (2^27, four times the largest national electorate in
/// docs/feasibility.md). The verifier holds 32 bytes per credential.
pub const MAX_CREDENTIALS: u64 = 1 << 27;

/// The longest credential list: `8 + 32·MAX_CREDENTIALS`.
pub const MAX_CREDENTIALS_BYTES: u64 = 8 + 32 * MAX_CREDENTIALS;

/// The longest encrypted tally: one for [`MAX_CONTESTS`](super::manifest::MAX_CONTESTS) ×
/// [`MAX_OPTIONS`](super::manifest::MAX_OPTIONS) options (`174 + 72·options`).
pub const MAX_TALLY_BYTES: u64 = crate::tally::EncryptedTally::encoded_len(
    (super::manifest::MAX_CONTESTS * super::manifest::MAX_OPTIONS) as u64,
);

/// The most bytes each record file may hold before its contents are read (the board and the
/// shares are framed streams, bounded per frame instead; `None`).
pub fn max_file_bytes(name: &str) -> Option<u64> {
    match name {
        files::INDEX => Some(MAX_INDEX_BYTES),
        files::MANIFEST | files::RESULTS => Some(MAX_JSON_BYTES),
        files::CEREMONY => Some(CeremonyTranscript::MAX_BYTES),
        files::CREDENTIALS => Some(MAX_CREDENTIALS_BYTES),
        files::TALLY => Some(MAX_TALLY_BYTES),
        _ => None,
    }
}

/// What kind of file `t` is, for a message.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    if t.is_symlink() {
        "symbolic link"
    } else if t.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

/// Opens a record file for reading: a regular file only, never through a symbolic link (on
/// Unix `O_NOFOLLOW`, and `O_NONBLOCK` so that a FIFO swapped in after the check cannot block
/// the open), checked again on the open handle. Returns the file and its length at opening.
///
/// # Errors
/// [`RecordError::Io`] for a missing or unreadable file, [`RecordError::NotARegularFile`].
pub fn open_regular(path: &Path, name: &str) -> Result<(File, u64), RecordError> {
    let not_regular = |t| RecordError::NotARegularFile {
        file: name.to_string(),
        kind: kind_of(t),
    };
    let before = std::fs::symlink_metadata(path).map_err(io(name))?;
    if !before.file_type().is_file() {
        return Err(not_regular(before.file_type()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io(name))?;
    let after = file.metadata().map_err(io(name))?;
    if !after.file_type().is_file() {
        return Err(not_regular(after.file_type()));
    }
    Ok((file, after.len()))
}

/// Reads a whole record file of at most `max` bytes, refusing a longer one before reading it
/// (and one that grows past `max` while it is read).
///
/// # Errors
/// As [`open_regular`], and [`RecordError::TooLarge`].
pub fn read_capped(path: &Path, name: &str, max: u64) -> Result<Vec<u8>, RecordError> {
    let (file, len) = open_regular(path, name)?;
    let too_large = |actual| RecordError::TooLarge {
        file: name.to_string(),
        max,
        actual,
    };
    if len > max {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io(name))?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A reader that hashes (SHA-512) and counts what passes through it: one pass over a file both
/// reads and hashes it, so what is verified is what was hashed.
pub struct HashingReader<R> {
    inner: R,
    hash: Sha512,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hash: Sha512::new(),
            bytes: 0,
        }
    }

    /// Reads what is left to the end, then returns the hash of everything read, its length
    /// and the reader.
    ///
    /// # Errors
    /// A read error.
    pub fn finish(mut self) -> std::io::Result<([u8; 64], u64, R)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((self.hash.finalize().into(), self.bytes, self.inner))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(buf.get(..n).unwrap_or(&[]));
        self.bytes += n as u64;
        Ok(n)
    }
}

/// SHA-512 of a file, streamed.
pub fn file_hash(path: &Path) -> std::io::Result<[u8; 64]> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut h = Sha512::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or(&[]));
    }
    Ok(h.finalize().into())
}

fn write_frame(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads one length-prefixed frame; `None` at a clean end.
fn read_frame(input: &mut impl Read, file: &str, max: u64) -> Result<Option<Vec<u8>>, RecordError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = input
            .read(len.get_mut(got..).unwrap_or(&mut []))
            .map_err(io(file))?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(RecordError::Decode {
                    file: file.into(),
                    error: DecodeError::Length {
                        what: "frame",
                        expected: "4-byte length",
                        actual: got,
                    },
                })
            };
        }
        got += n;
    }
    let len = u32::from_le_bytes(len);
    if u64::from(len) > max {
        return Err(RecordError::Decode {
            file: file.into(),
            error: DecodeError::TooLarge {
                what: "frame",
                max,
                actual: u64::from(len),
            },
        });
    }
    let mut frame = vec![0u8; len as usize];
    input.read_exact(&mut frame).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            RecordError::Decode {
                file: file.into(),
                error: DecodeError::Length {
                    what: "frame",
                    expected: "as many bytes as its length prefix",
                    actual: 0,
                },
            }
        } else {
            io(file)(e)
        }
    })?;
    Ok(Some(frame))
}

/// What goes into a record besides the board file.
pub struct RecordParts<'a> {
    /// The election context (manifest, ceremony outcome, credentials).
    pub context: &'a ElectionContext,
    /// The ceremony's public transcript.
    pub ceremony: &'a CeremonyTranscript,
    /// The board file (its challenge entries are the record's challenged ballots).
    pub board: &'a Path,
    /// The encrypted tally.
    pub tally: &'a EncryptedTally,
    /// The decryption shares.
    pub shares: &'a [CandidateShare],
    /// The results.
    pub results: &'a ElectionResults,
}

/// Writes a record to `dir`, which must not exist or be empty. The files are written into a
/// temporary folder beside it, each synced, `record.json` last; the folder is synced and then
/// renamed to `dir`, and the parent synced: after a crash or a full disk, `dir` is either absent
/// (or still empty) or a complete record, never a mixture.
///
/// # Errors
/// [`RecordError::Io`], also for a `dir` that holds files.
pub fn write_record(dir: &Path, parts: &RecordParts<'_>) -> Result<RecordIndex, RecordError> {
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(RecordError::Io {
            file: dir.display().to_string(),
            error: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the record directory is not empty; a record is never written over another",
            ),
        });
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "record".into());
    let staging = dir.with_file_name(format!(
        ".{name}.writing-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io("record directory"))?;
    }
    let written = write_into(&staging, parts).and_then(|index| {
        sync_path(&staging).map_err(io("record directory"))?;
        // An empty `dir` is replaced by the rename; a non-empty one makes it fail.
        std::fs::rename(&staging, dir).map_err(io("record directory"))?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        sync_path(parent).map_err(io("record directory"))?;
        Ok(index)
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// `fsync` of a file or a directory.
fn sync_path(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

fn write_into(dir: &Path, parts: &RecordParts<'_>) -> Result<RecordIndex, RecordError> {
    std::fs::create_dir(dir).map_err(io("record directory"))?;
    let put = |name: &str, bytes: &[u8]| {
        let mut file = File::create(dir.join(name)).map_err(io(name))?;
        file.write_all(bytes).map_err(io(name))?;
        file.sync_all().map_err(io(name))
    };
    put(
        files::MANIFEST,
        parts.context.manifest().to_json().as_bytes(),
    )?;
    put(files::CEREMONY, &parts.ceremony.to_bytes())?;
    put(files::CREDENTIALS, &parts.context.credentials().to_bytes())?;
    std::fs::copy(parts.board, dir.join(files::BOARD)).map_err(io(files::BOARD))?;
    sync_path(&dir.join(files::BOARD)).map_err(io(files::BOARD))?;
    put(files::TALLY, &parts.tally.to_bytes())?;
    {
        let mut out =
            BufWriter::new(File::create(dir.join(files::SHARES)).map_err(io(files::SHARES))?);
        for share in parts.shares {
            write_frame(&mut out, &share.to_bytes()).map_err(io(files::SHARES))?;
        }
        out.flush().map_err(io(files::SHARES))?;
        out.get_ref().sync_all().map_err(io(files::SHARES))?;
    }
    let results = serde_json::to_string_pretty(parts.results).map_err(|e| RecordError::Json {
        file: files::RESULTS.into(),
        message: e.to_string(),
    })?;
    put(files::RESULTS, results.as_bytes())?;
    let mut hashes = BTreeMap::new();
    for name in files::ALL {
        hashes.insert(
            name.to_string(),
            to_hex(&file_hash(&dir.join(name)).map_err(io(name))?),
        );
    }
    let head = {
        let mut reader = BoardReader::new(BufReader::new(
            File::open(dir.join(files::BOARD)).map_err(io(files::BOARD))?,
        ))
        .map_err(|e| RecordError::Io {
            file: files::BOARD.into(),
            error: std::io::Error::other(e.to_string()),
        })?;
        while reader
            .next_checked()
            .map_err(|e| RecordError::Io {
                file: files::BOARD.into(),
                error: std::io::Error::other(e.to_string()),
            })?
            .is_some()
        {}
        *reader.head()
    };
    let index = RecordIndex {
        version: RECORD_VERSION,
        election_id: parts.context.manifest().election_id.clone(),
        election_hash: to_hex(parts.context.hash()),
        board_head: to_hex(&head),
        files: hashes,
    };
    let json = serde_json::to_string_pretty(&index).map_err(|e| RecordError::Json {
        file: files::INDEX.into(),
        message: e.to_string(),
    })?;
    put(files::INDEX, json.as_bytes())?;
    Ok(index)
}

/// A record directory opened for reading. Each part is read on demand; the board and the
/// shares are streamed.
#[derive(Debug)]
pub struct Record {
    dir: PathBuf,
    index: RecordIndex,
}

impl Record {
    /// Opens a record: reads and checks `record.json` (version, no unknown fields).
    ///
    /// # Errors
    /// [`RecordError`] for a missing or unreadable index, or an unsupported version.
    pub fn open(dir: &Path) -> Result<Self, RecordError> {
        let bytes = read_capped(&dir.join(files::INDEX), files::INDEX, MAX_INDEX_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|_| RecordError::Json {
            file: files::INDEX.into(),
            message: "not UTF-8".into(),
        })?;
        // Read the version first, so that a future format is reported as such.
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64));
        if let Some(v) = version {
            if v != u64::from(RECORD_VERSION) {
                return Err(RecordError::UnsupportedVersion {
                    version: u32::try_from(v).unwrap_or(u32::MAX),
                });
            }
        }
        let index: RecordIndex = serde_json::from_str(&text).map_err(|e| RecordError::Json {
            file: files::INDEX.into(),
            message: e.to_string(),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            index,
        })
    }

    /// The index.
    pub fn index(&self) -> &RecordIndex {
        &self.index
    }

    /// The path of one of the record's files.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The whole bytes of one of the record's small files (not the board or the shares), read
    /// once under the file's size limit ([`max_file_bytes`]).
    ///
    /// # Errors
    /// As [`read_capped`].
    pub fn read(&self, name: &str) -> Result<Vec<u8>, RecordError> {
        let max = max_file_bytes(name).unwrap_or(MAX_INDEX_BYTES);
        read_capped(&self.path(name), name, max)
    }

    /// The manifest.
    ///
    /// # Errors
    /// [`RecordError`] if unreadable or invalid.
    pub fn manifest(&self) -> Result<Manifest, RecordError> {
        Self::decode_manifest(&self.read(files::MANIFEST)?)
    }

    /// Decodes `manifest.json`'s bytes.
    ///
    /// # Errors
    /// [`RecordError::Json`].
    pub fn decode_manifest(bytes: &[u8]) -> Result<Manifest, RecordError> {
        let text = core::str::from_utf8(bytes).map_err(|_| RecordError::Json {
            file: files::MANIFEST.into(),
            message: "not UTF-8".into(),
        })?;
        Manifest::from_json(text).map_err(|e| RecordError::Json {
            file: files::MANIFEST.into(),
            message: e.to_string(),
        })
    }

    /// The ceremony transcript.
    ///
    /// # Errors
    /// [`RecordError`] if unreadable or not canonical.
    pub fn ceremony(&self) -> Result<CeremonyTranscript, RecordError> {
        Self::decode_ceremony(&self.read(files::CEREMONY)?)
    }

    /// Decodes `ceremony.bin`'s bytes.
    ///
    /// # Errors
    /// [`RecordError::Decode`].
    pub fn decode_ceremony(bytes: &[u8]) -> Result<CeremonyTranscript, RecordError> {
        CeremonyTranscript::from_bytes(bytes).map_err(|error| RecordError::Decode {
            file: files::CEREMONY.into(),
            error,
        })
    }

    /// The credential list.
    ///
    /// # Errors
    /// [`RecordError`] if unreadable or not canonical.
    pub fn credentials(&self) -> Result<CredentialList, RecordError> {
        Self::decode_credentials(&self.read(files::CREDENTIALS)?)
    }

    /// Decodes `credentials.bin`'s bytes.
    ///
    /// # Errors
    /// [`RecordError::Decode`].
    pub fn decode_credentials(bytes: &[u8]) -> Result<CredentialList, RecordError> {
        CredentialList::from_bytes(bytes).map_err(|e| match e {
            super::credentials::CredentialError::Decode(error) => RecordError::Decode {
                file: files::CREDENTIALS.into(),
                error,
            },
            other => RecordError::Decode {
                file: files::CREDENTIALS.into(),
                error: DecodeError::Malformed {
                    what: "credential list",
                    reason: if matches!(
                        other,
                        super::credentials::CredentialError::Duplicate { .. }
                    ) {
                        "duplicate credential"
                    } else {
                        "invalid"
                    },
                },
            },
        })
    }

    /// The election context the record's manifest, ceremony and credentials make, checked
    /// against the recorded `election_hash` (the ceremony is adjudicated with `rng`'s weights).
    /// What a voter's check needs; the full verifier checks much more.
    ///
    /// # Errors
    /// [`RecordError`] for an unreadable part; [`RecordError::Context`] if the parts do not make
    /// a context or make another election's.
    pub fn context<R: rand_core::RngCore + rand_core::CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<ElectionContext, RecordError> {
        let context_error = |reason: String| RecordError::Context { reason };
        let outcome = crate::ceremony::adjudicate(&self.ceremony()?, rng)
            .map_err(|e| context_error(e.to_string()))?;
        let context = ElectionContext::new(self.manifest()?, outcome, self.credentials()?)
            .map_err(|e| context_error(e.to_string()))?;
        if to_hex(context.hash()) != self.index.election_hash {
            return Err(context_error(
                "the hash of manifest, ceremony and credentials is not the recorded election_hash"
                    .into(),
            ));
        }
        Ok(context)
    }

    /// A streaming reader over the board.
    ///
    /// # Errors
    /// [`RecordError`] if the file is missing or not a board.
    pub fn board(&self) -> Result<BoardReader<BufReader<File>>, RecordError> {
        let (file, _) = open_regular(&self.path(files::BOARD), files::BOARD)?;
        BoardReader::new(BufReader::new(file)).map_err(|e| RecordError::Io {
            file: files::BOARD.into(),
            error: std::io::Error::other(e.to_string()),
        })
    }

    /// The encrypted tally's bytes, as recorded.
    ///
    /// # Errors
    /// [`RecordError::Io`].
    pub fn tally_bytes(&self) -> Result<Vec<u8>, RecordError> {
        self.read(files::TALLY)
    }

    /// The decryption shares.
    ///
    /// # Errors
    /// [`RecordError`] for an unreadable or malformed stream.
    pub fn shares(&self) -> Result<Vec<CandidateShare>, RecordError> {
        let (file, _) = open_regular(&self.path(files::SHARES), files::SHARES)?;
        read_shares(
            &mut BufReader::new(file),
            crate::ceremony::MAX_GUARDIANS,
            None,
        )
    }

    /// The results.
    ///
    /// # Errors
    /// [`RecordError`] if unreadable or not the results format.
    pub fn results(&self) -> Result<ElectionResults, RecordError> {
        Self::decode_results(&self.read(files::RESULTS)?)
    }

    /// Decodes `results.json`'s bytes.
    ///
    /// # Errors
    /// [`RecordError::Json`].
    pub fn decode_results(bytes: &[u8]) -> Result<ElectionResults, RecordError> {
        serde_json::from_slice(bytes).map_err(|e| RecordError::Json {
            file: files::RESULTS.into(),
            message: e.to_string(),
        })
    }
}

/// Reads `shares.bin`'s frames: at most `max_shares` (one per guardian), each of exactly
/// `options`' share length when the tally's option count is known (else at most the largest
/// share's), so neither a long stream nor a long frame is ever held in memory.
///
/// # Errors
/// [`RecordError::Decode`] naming `shares.bin`; [`RecordError::Io`].
pub fn read_shares(
    input: &mut impl Read,
    max_shares: u32,
    options: Option<u64>,
) -> Result<Vec<CandidateShare>, RecordError> {
    let decode = |error| RecordError::Decode {
        file: files::SHARES.into(),
        error,
    };
    let max_frame = CandidateShare::encoded_len(
        options.unwrap_or((super::manifest::MAX_CONTESTS * super::manifest::MAX_OPTIONS) as u64),
    );
    let mut out = Vec::new();
    while let Some(frame) = read_frame(input, files::SHARES, max_frame)? {
        if options.is_some_and(|_| frame.len() as u64 != max_frame) {
            return Err(decode(DecodeError::Length {
                what: "decryption share",
                expected: "138 + 128·options of the tally",
                actual: frame.len(),
            }));
        }
        // At most one share per guardian belongs in a record; more is refused before it is
        // held in memory (a record of a million copies of one share is not read whole).
        if out.len() >= max_shares as usize {
            return Err(decode(DecodeError::TooLarge {
                what: "decryption shares",
                max: u64::from(max_shares),
                actual: out.len() as u64 + 1,
            }));
        }
        out.push(CandidateShare::from_bytes(&frame).map_err(decode)?);
    }
    Ok(out)
}

impl Record {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
