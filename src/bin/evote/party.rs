//! The per-party commands: `election new`, `guardian init|step|status|finish|decrypt`, `vote`,
//! `board create|submit|close`, `record`. Each is one party's step on its own machine, reading
//! and writing the files docs/deployment.md describes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use evote::ceremony::{adjudicate, Guardian, GuardianIndex, KdfParams};
use evote::decryption::{combine, CandidateShare};
use evote::election::board::tally;
use evote::election::{
    BallotBoxKey, BoardLocation, ElectionResults, Manifest, PendingBallot, RecordParts,
    VoterContext,
};
use evote::party::{
    self, ceremony_params, election_context, election_new, guardian_finish, guardian_step, hex,
    list, read_credential, unhex, write_atomically, Exchange, StateFile, StepOutcome,
};
use evote::tally::TallyCandidate;
use evote::text::terminal_safe;
use rand_core::OsRng;

use super::unusable;

#[derive(Subcommand)]
pub enum ElectionCommand {
    /// Create an election folder (manifest and public credential list) and one private
    /// credential file per voter
    New {
        /// The manifest (JSON); default: the demo's
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Number of voters
        #[arg(long)]
        voters: usize,
        /// The election folder to create (public)
        #[arg(long)]
        out: PathBuf,
        /// Where the voters' credential files go (private: hand each voter its own)
        #[arg(long)]
        credentials: PathBuf,
    },
}

/// How a guardian's state file is found and opened.
#[derive(clap::Args)]
pub struct StateArgs {
    /// The guardian's state file (sealed under its passphrase)
    #[arg(long)]
    state: PathBuf,
    /// The environment variable that holds the passphrase
    #[arg(long, default_value = "EVOTE_PASSPHRASE")]
    passphrase_env: String,
    /// Argon2id memory for sealing the state, MiB (8 to 1024)
    #[arg(long, default_value_t = 64)]
    kdf_memory_mib: u32,
}

impl StateArgs {
    fn file(&self) -> Result<StateFile, String> {
        let passphrase = std::env::var(&self.passphrase_env).map_err(|_| {
            format!(
                "set the guardian's passphrase in the environment variable {}",
                self.passphrase_env
            )
        })?;
        if passphrase.len() < 8 {
            return Err("the passphrase must have at least 8 characters".into());
        }
        let kdf = KdfParams {
            memory_kib: self.kdf_memory_mib.saturating_mul(1024),
            ..KdfParams::default()
        };
        kdf.check().map_err(|e| e.to_string())?;
        Ok(StateFile::new(&self.state, passphrase.into_bytes(), kdf))
    }
}

#[derive(Subcommand)]
pub enum GuardianCommand {
    /// Round 1: create this guardian's state file and publish its commitment hash
    Init {
        #[command(flatten)]
        state: StateArgs,
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The exchange folder the guardians share
        #[arg(long)]
        exchange: PathBuf,
        /// Guardians needed to decrypt (t)
        #[arg(long)]
        threshold: u32,
        /// Guardians (n)
        #[arg(long)]
        guardians: u32,
        /// This guardian's index (1..=n)
        #[arg(long)]
        index: u32,
    },
    /// Do whatever is due: republish this guardian's last message, and run the next round once
    /// every guardian's message of this round is in (idempotent)
    Step {
        #[command(flatten)]
        state: StateArgs,
        /// The exchange folder
        #[arg(long)]
        exchange: PathBuf,
        /// The round's deadline has passed: go on without the guardians still missing
        #[arg(long)]
        proceed: bool,
    },
    /// Who has published what, who is missing, and what adjudication finds so far
    Status {
        #[command(flatten)]
        state: StateArgs,
        /// The exchange folder
        #[arg(long)]
        exchange: PathBuf,
    },
    /// End the ceremony: adjudicate, form the key share, publish the transcript in the election
    /// folder and print the election key
    Finish {
        #[command(flatten)]
        state: StateArgs,
        /// The exchange folder
        #[arg(long)]
        exchange: PathBuf,
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// Round 4's deadline has passed: go on without the guardians still missing
        #[arg(long)]
        proceed: bool,
    },
    /// Decrypt the tally of the closed board (recomputed from the board) and write this
    /// guardian's signed share; a guardian decrypts one tally only
    Decrypt {
        #[command(flatten)]
        state: StateArgs,
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The closed board
        #[arg(long)]
        board: PathBuf,
        /// Where the share goes
        #[arg(long)]
        out: PathBuf,
        /// Refuse a tally of fewer ballots (their secrecy)
        #[arg(long, default_value_t = evote::decryption::DEFAULT_MIN_BALLOTS)]
        min_ballots: u64,
        /// The encrypted tally published by `evote tally`: decrypt only if it is exactly the
        /// tally recomputed from the board
        #[arg(long)]
        tally: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum BoardCommand {
    /// Create an empty board and the ballot box's key file (private)
    Create {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The board to create: a file, or a PostgreSQL database (postgres://…; the schema is
        /// created; docs/board-postgres.md)
        #[arg(long)]
        board: BoardLocation,
        /// The ballot box's key file to create (private: it signs receipts)
        #[arg(long)]
        key: PathBuf,
    },
    /// Accept ballot files (or, with --challenge, challenged ballots): each is verified, made
    /// durable and answered with a receipt file beside it; refusals are reported
    Submit {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The board: a file or postgres://…
        #[arg(long)]
        board: BoardLocation,
        /// The ballot box's key file
        #[arg(long)]
        key: PathBuf,
        /// The files are challenged ballots
        #[arg(long)]
        challenge: bool,
        /// Ballot files
        ballots: Vec<PathBuf>,
    },
    /// Serve the ballot box over HTTP (docs/deployment.md): ballots and challenges in,
    /// receipts out, the board, the head and tracker lookups for anyone; closing for the admin
    #[cfg(feature = "server")]
    Serve {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The board (created with `evote board create`): a file, or a PostgreSQL database
        /// (postgres://…; several hosts with target_session_attrs=read-write follow a failover)
        #[arg(long)]
        board: BoardLocation,
        /// The ballot box's key file
        #[arg(long)]
        key: PathBuf,
        /// The address to listen on (port 0: any free port, printed)
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The environment variable that holds the admin token (needed to close)
        #[arg(long, default_value = "EVOTE_ADMIN_TOKEN")]
        admin_token_env: String,
        /// The most connections open at once (one more is closed when accepted)
        #[arg(long, default_value_t = evote::server::MAX_CONNECTIONS)]
        max_connections: usize,
        /// Seconds a client has to send a request's headers
        #[arg(long, default_value_t = evote::server::HEADER_TIMEOUT.as_secs())]
        header_timeout: u64,
        /// The booth's WebAssembly module (built by web/build.sh), served with the voting
        /// page at / (docs/booth.md)
        #[arg(long)]
        booth_module: Option<PathBuf>,
    },
    /// Write a board kept in PostgreSQL as the board file's exact bytes (for the record,
    /// `evote tally` and `evote verify`), checking every entry's chain
    Export {
        /// The board: postgres://…
        #[arg(long)]
        board: BoardLocation,
        /// The board file to write (must not exist)
        #[arg(long)]
        out: PathBuf,
    },
    /// Close the board: no ballot is accepted afterwards; prints the head to publish. With
    /// --server, asks the running ballot box to close (with the admin token)
    Close {
        /// The election folder
        #[arg(long)]
        election: PathBuf,
        /// The board: a file or postgres://…
        #[arg(long, required_unless_present = "server")]
        board: Option<BoardLocation>,
        /// The ballot box's key file
        #[arg(long, required_unless_present = "server")]
        key: Option<PathBuf>,
        /// The running ballot box (host:port)
        #[arg(long)]
        server: Option<String>,
        /// The environment variable that holds the admin token
        #[arg(long, default_value = "EVOTE_ADMIN_TOKEN")]
        admin_token_env: String,
    },
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    unusable(e)
}

pub fn election(command: ElectionCommand) -> ExitCode {
    match command {
        ElectionCommand::New {
            manifest,
            voters,
            out,
            credentials,
        } => {
            let manifest = match manifest {
                None => evote::demo::demo_manifest(),
                Some(path) => match std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| Manifest::from_json(&t).map_err(|e| e.to_string()))
                {
                    Ok(m) => m,
                    Err(e) => return fail(format!("{}: {e}", path.display())),
                },
            };
            match election_new(&manifest, voters, &out, &credentials, &mut OsRng) {
                Ok(()) => {
                    println!(
                        "election {} in {}: {voters} credentials in {}",
                        terminal_safe(&manifest.election_id),
                        out.display(),
                        credentials.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

pub fn guardian(command: GuardianCommand) -> ExitCode {
    match guardian_inner(command) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn guardian_inner(command: GuardianCommand) -> Result<ExitCode, party::PartyError> {
    match command {
        GuardianCommand::Init {
            state,
            election,
            exchange,
            threshold,
            guardians,
            index,
        } => {
            let file = state.file()?;
            if file.exists() {
                return Err(format!(
                    "{} exists: a guardian starts once (step goes on from it)",
                    state.state.display()
                )
                .into());
            }
            let params = ceremony_params(&election, threshold, guardians)?;
            let g = Guardian::start(&params, GuardianIndex::new(index)?, &mut OsRng)?;
            file.save(&g, &mut OsRng)?;
            let published = Exchange::new(&exchange).publish(&g)?;
            println!(
                "guardian {index} of {guardians} (threshold {threshold}): round 1 published{}",
                published.map_or(String::new(), |p| format!(" ({})", p.display()))
            );
            Ok(ExitCode::SUCCESS)
        }
        GuardianCommand::Step {
            state,
            exchange,
            proceed,
        } => {
            let outcome = guardian_step(
                &state.file()?,
                &Exchange::new(&exchange),
                proceed,
                &mut OsRng,
            )?;
            match outcome {
                StepOutcome::Advanced(stage) => println!("{}: published", stage.name()),
                StepOutcome::Waiting { round, missing } => println!(
                    "waiting for round {round} from guardians {} (or --proceed after the deadline)",
                    list(&missing)
                ),
                StepOutcome::ReadyToFinish => println!("round 4 done: run `evote guardian finish`"),
                StepOutcome::Finished => println!("finished"),
            }
            Ok(ExitCode::SUCCESS)
        }
        GuardianCommand::Status { state, exchange } => {
            let g = state.file()?.load()?;
            let params = g.params().clone();
            let ex = Exchange::new(&exchange);
            println!(
                "{} of {} (threshold {}): {}",
                g.index(),
                params.guardians(),
                params.threshold(),
                g.stage().name()
            );
            report_round(1, &ex.hashes(&params));
            report_round(2, &ex.reveals(&params));
            report_round(3, &ex.shares(&params));
            report_round(4, &ex.complaints(&params));
            match adjudicate(&ex.transcript(&params), &mut OsRng) {
                Ok(outcome) => println!(
                    "  adjudication so far: qualified {}; disqualified {}",
                    list(outcome.qualified()),
                    if outcome.culprits().is_empty() {
                        "none".into()
                    } else {
                        outcome
                            .culprits()
                            .iter()
                            .map(|(g, why)| format!("{g} ({why})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
                Err(e) => println!("  adjudication so far: {e}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        GuardianCommand::Finish {
            state,
            exchange,
            election,
            proceed,
        } => {
            let outcome = guardian_finish(
                &state.file()?,
                &Exchange::new(&exchange),
                &election,
                proceed,
                &mut OsRng,
            )?;
            let context = election_context(&election, &mut OsRng)?;
            party::publish_context(&election, &context)?;
            println!(
                "ceremony finished: qualified {}; election key {}; election hash {}",
                list(outcome.qualified()),
                hex(outcome.joint_key().as_bytes()),
                hex(context.hash())
            );
            Ok(ExitCode::SUCCESS)
        }
        GuardianCommand::Decrypt {
            state,
            election,
            board,
            out,
            min_ballots,
            tally: published,
        } => {
            let file = state.file()?;
            let mut g = file.load()?;
            let context = election_context(&election, &mut OsRng)?;
            let encrypted = tally(&board, &context, &mut OsRng)?;
            if let Some(path) = published {
                // A tally file comes from others: read at most the largest tally's length.
                let bytes = party::read(&path, evote::election::record::MAX_TALLY_BYTES)?;
                let candidate = TallyCandidate::from_bytes(&bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if !candidate.matches(&encrypted) {
                    return Err(format!(
                        "{}: not the tally of this board (it claims {} ballots, board head {}; \
                         the board gives {} ballots, head {}): nothing decrypted",
                        path.display(),
                        candidate.ballots(),
                        hex(&candidate.board_head()[..16]),
                        encrypted.ballots(),
                        hex(&encrypted.board_head()[..16]),
                    )
                    .into());
                }
            }
            let head = *encrypted.board_head();
            let key = g
                .key_share_mut()
                .ok_or("the ceremony is not finished for this guardian")?;
            let share = key.decrypt_tally(
                context.outcome(),
                &encrypted,
                &head,
                min_ballots,
                &mut OsRng,
            )?;
            // The one-decryption rule is in the state: saved before the share leaves.
            file.save(&g, &mut OsRng)?;
            write_atomically(&out, &share.to_bytes())?;
            println!(
                "share of {} for the tally of {} ballots (board head {}) in {}",
                g.index(),
                encrypted.ballots(),
                hex(&head[..16]),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line of `guardian status` per round: who has published, who is missing, and the files
/// refused.
fn report_round<T>(round: u32, r: &party::Round<T>) {
    let present: Vec<GuardianIndex> = r.packages.keys().copied().collect();
    let names = |g: &[GuardianIndex], none: &str| {
        if g.is_empty() {
            none.to_string()
        } else {
            list(g)
        }
    };
    println!(
        "  round {round}: from {} ; missing {}",
        names(&present, "nobody"),
        names(&r.missing, "none")
    );
    for (path, why) in &r.refused {
        println!("    refused {}: {}", path.display(), terminal_safe(why));
    }
}

/// `evote vote`: the voter's client.
pub fn vote(
    election: &Path,
    credential: &Path,
    choices: &str,
    challenge: bool,
    out: &Path,
    post: Option<&str>,
    election_hash: Option<&str>,
) -> ExitCode {
    let run = || -> Result<(), party::PartyError> {
        let full;
        let pinned;
        let context: &VoterContext = match election_hash {
            Some(text) => {
                let trusted: [u8; 64] = unhex(text.trim())
                    .and_then(|b| b.try_into().ok())
                    .ok_or("--election-hash: not 128 hex digits")?;
                #[cfg(feature = "server")]
                if let Some(address) = post {
                    if !election.join(party::files::CONTEXT).exists() {
                        fetch_context(address, election, &trusted)?;
                    }
                }
                pinned = party::voter_context(election, &trusted)?;
                &pinned
            }
            None => {
                full = election_context(election, &mut OsRng)?;
                &full
            }
        };
        let credential = read_credential(credential)?;
        let text = if Path::new(choices).exists() {
            std::fs::read_to_string(choices).map_err(|e| format!("{choices}: {e}"))?
        } else {
            choices.to_string()
        };
        let selections: Vec<Vec<u64>> = serde_json::from_str(&text).map_err(|e| {
            format!("--choices: a JSON list of lists of counts, one per contest: {e}")
        })?;
        let pending =
            PendingBallot::encrypt(context, credential.public(), &selections, &mut OsRng)?;
        let tracker = hex(&pending.tracker());
        let bytes = if challenge {
            pending.challenge(&credential, &mut OsRng)?.to_bytes()
        } else {
            pending.cast(&credential, &mut OsRng)?.to_bytes()
        };
        write_atomically(out, &bytes)?;
        println!(
            "{} ballot in {}; tracker {tracker}",
            if challenge { "challenged" } else { "cast" },
            out.display()
        );
        if let Some(address) = post {
            #[cfg(feature = "server")]
            post_ballot(address, context, &bytes, challenge, &tracker, out)?;
            #[cfg(not(feature = "server"))]
            return Err(
                format!("cannot post to {address}: built without the `server` feature").into(),
            );
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

#[cfg(feature = "server")]
/// Downloads the voter context from the ballot box at `address` into the folder `election`,
/// keeping it only if it is the election `trusted` names (a ballot box cannot hand a voter
/// another key or another manifest).
fn fetch_context(
    address: &str,
    election: &Path,
    trusted: &[u8; 64],
) -> Result<(), party::PartyError> {
    use evote::server::client::Connection;
    let address = address.trim_start_matches("http://").trim_end_matches('/');
    let mut c = Connection::open(address).map_err(|e| format!("{address}: {e}"))?;
    let answer = c.request("GET", "/election/context.bin", &[], &[])?;
    if answer.status != 200 {
        return Err(format!(
            "{address}: no election context ({}): {}",
            answer.status,
            terminal_safe(&String::from_utf8_lossy(&answer.body))
        )
        .into());
    }
    VoterContext::from_bytes(&answer.body, trusted)
        .map_err(|e| format!("the context served by {address}: {e}"))?;
    std::fs::create_dir_all(election).map_err(|e| format!("{}: {e}", election.display()))?;
    write_atomically(&election.join(party::files::CONTEXT), &answer.body)?;
    Ok(())
}

#[cfg(feature = "server")]
/// Posts a ballot to the ballot box at `address` (`host:port`), checks the receipt it answers
/// with (signed by the box's key, for this ballot's tracker) and keeps it beside the ballot.
fn post_ballot(
    address: &str,
    context: &VoterContext,
    bytes: &[u8],
    challenge: bool,
    tracker: &str,
    out: &Path,
) -> Result<(), party::PartyError> {
    use evote::server::client::Connection;
    let address = address.trim_start_matches("http://").trim_end_matches('/');
    let mut c = Connection::open(address).map_err(|e| format!("{address}: {e}"))?;
    let about = c.request("GET", "/election", &[], &[])?;
    let about: serde_json::Value = serde_json::from_slice(&about.body)?;
    if about["election_hash"].as_str() != Some(hex(context.hash()).as_str()) {
        return Err(format!("{address} serves another election").into());
    }
    let ballot_box = about["ballot_box_key"]
        .as_str()
        .and_then(unhex)
        .ok_or("the ballot box did not give its key")?;
    let ballot_box = evote::PublicKey::from_bytes(&ballot_box)?;
    let path = if challenge { "/challenges" } else { "/ballots" };
    let answer = c.request(
        "POST",
        path,
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )?;
    let body: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|_| format!("{address}: answered {} without a JSON body", answer.status))?;
    if answer.status != 201 {
        return Err(format!(
            "the ballot box refused the ballot ({}): {}",
            answer.status,
            terminal_safe(body["error"].as_str().unwrap_or("no reason given"))
        )
        .into());
    }
    let receipt = body["receipt"]
        .as_str()
        .and_then(unhex)
        .ok_or("the ballot box sent no receipt")?;
    let receipt = evote::election::Receipt::from_bytes(&receipt)?;
    receipt
        .verify(context.hash(), &ballot_box)
        .map_err(|_| "the receipt does not verify under the ballot box's key")?;
    if hex(&receipt.tracker) != tracker {
        return Err("the receipt is for another ballot".into());
    }
    let kept = out.with_extension("receipt");
    write_atomically(&kept, &receipt.to_bytes())?;
    println!(
        "accepted as entry {} (receipt verified, kept in {})",
        receipt.entry,
        kept.display()
    );
    Ok(())
}

fn read_key(path: &Path) -> Result<BallotBoxKey, party::PartyError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = unhex(text.trim()).ok_or_else(|| format!("{}: not a key file", path.display()))?;
    Ok(BallotBoxKey::from_secret_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?)
}

pub fn board(command: BoardCommand) -> ExitCode {
    let run = || -> Result<ExitCode, party::PartyError> {
        match command {
            BoardCommand::Create {
                election,
                board,
                key,
            } => {
                let context = election_context(&election, &mut OsRng)?;
                if key.exists() {
                    return Err(format!("{} exists", key.display()).into());
                }
                let k = BallotBoxKey::generate(&mut OsRng);
                write_atomically(
                    &key,
                    format!("{}\n", hex(k.expose_secret_bytes().as_slice())).as_bytes(),
                )?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
                }
                let b = board.create(&context, k)?;
                println!(
                    "board {} created; ballot box key {} (receipts verify under it)",
                    board,
                    hex(b.ballot_box().as_bytes())
                );
                Ok(ExitCode::SUCCESS)
            }
            BoardCommand::Submit {
                election,
                board,
                key,
                challenge,
                ballots,
            } => {
                let context = election_context(&election, &mut OsRng)?;
                let mut b = board.open(&context, read_key(&key)?)?;
                let mut refused = 0;
                for path in &ballots {
                    let bytes =
                        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                    let receipt = if challenge {
                        b.challenge(&context, &bytes, &mut OsRng).map(|(r, _)| r)
                    } else {
                        b.append(&context, &bytes, &mut OsRng)
                    };
                    match receipt {
                        Ok(r) => {
                            let out = path.with_extension("receipt");
                            write_atomically(&out, &r.to_bytes())?;
                            println!(
                                "{}: entry {} (receipt {})",
                                path.display(),
                                r.entry,
                                out.display()
                            );
                        }
                        Err(e) => {
                            refused += 1;
                            println!("{}: refused: {e}", path.display());
                        }
                    }
                }
                Ok(if refused == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            #[cfg(feature = "server")]
            BoardCommand::Serve {
                election,
                board,
                key,
                listen,
                admin_token_env,
                max_connections,
                header_timeout,
                booth_module,
            } => {
                let admin_token = std::env::var(&admin_token_env).map_err(|_| {
                    format!("set the admin token in the environment variable {admin_token_env}")
                })?;
                if admin_token.len() < 16 {
                    return Err("the admin token must have at least 16 characters".into());
                }
                evote::server::serve(
                    evote::server::ServerConfig {
                        election,
                        board,
                        key: read_key(&key)?,
                        listen,
                        admin_token,
                        max_connections: max_connections.max(1),
                        header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                        booth_module,
                    },
                    |addr| {
                        println!("listening on http://{addr}");
                        use std::io::Write as _;
                        let _ = std::io::stdout().flush();
                    },
                )?;
                Ok(ExitCode::SUCCESS)
            }
            BoardCommand::Export { board, out } => {
                let BoardLocation::Postgres(url) = &board else {
                    return Err(format!(
                        "{board} is a board file already: copy it (export reads a PostgreSQL board)"
                    )
                    .into());
                };
                #[cfg(feature = "postgres")]
                {
                    let (entries, head) =
                        evote::election::board_postgres::export_postgres(url, &out)
                            .map_err(|e| format!("{board}: {e}"))?;
                    println!(
                        "{} written: {entries} entries, every one chained; head {}",
                        out.display(),
                        hex(&head)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                #[cfg(not(feature = "postgres"))]
                {
                    let _ = (url, out);
                    Err("built without PostgreSQL (feature `postgres`)".into())
                }
            }
            BoardCommand::Close {
                election,
                board,
                key,
                server,
                admin_token_env,
            } => {
                if let Some(address) = server {
                    #[cfg(feature = "server")]
                    {
                        let _ = election;
                        let token = std::env::var(&admin_token_env).map_err(|_| {
                            format!(
                                "set the admin token in the environment variable {admin_token_env}"
                            )
                        })?;
                        let address = address.trim_start_matches("http://").trim_end_matches('/');
                        let mut c = evote::server::client::Connection::open(address)
                            .map_err(|e| format!("{address}: {e}"))?;
                        let auth = format!("Bearer {token}");
                        let r =
                            c.request("POST", "/admin/close", &[("Authorization", &auth)], &[])?;
                        let body: serde_json::Value = serde_json::from_slice(&r.body)?;
                        if r.status != 200 {
                            return Err(format!(
                                "the ballot box refused to close ({}): {}",
                                r.status,
                                terminal_safe(body["error"].as_str().unwrap_or(""))
                            )
                            .into());
                        }
                        println!(
                            "board closed after {} entries; head {}",
                            body["entries"],
                            body["head"].as_str().unwrap_or("")
                        );
                        return Ok(ExitCode::SUCCESS);
                    }
                    #[cfg(not(feature = "server"))]
                    return Err(format!("cannot reach {address} ({admin_token_env}): built without the `server` feature").into());
                }
                let (Some(board), Some(key)) = (board, key) else {
                    return Err("--board and --key, or --server".into());
                };
                let context = election_context(&election, &mut OsRng)?;
                let mut b = board.open(&context, read_key(&key)?)?;
                let head = b.close(&mut OsRng)?;
                println!(
                    "board closed after {} entries; head {}",
                    b.entries(),
                    hex(&head)
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    };
    match run() {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

/// `evote tally`: the encrypted tally of the closed board, for the guardians.
pub fn tally_command(election: &Path, board: &Path, out: &Path) -> ExitCode {
    let run = || -> Result<(), party::PartyError> {
        let context = election_context(election, &mut OsRng)?;
        let encrypted = tally(board, &context, &mut OsRng)?;
        write_atomically(out, &encrypted.to_bytes())?;
        println!(
            "tally of {} ballots over {} options (board head {}; digest {}) in {}",
            encrypted.ballots(),
            encrypted.sums().len(),
            hex(&encrypted.board_head()[..16]),
            hex(&encrypted.digest()[..16]),
            out.display()
        );
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// `evote record`: the tally of the closed board, the guardians' shares combined, the record.
pub fn record(election: &Path, board: &Path, shares: &[PathBuf], out: &Path) -> ExitCode {
    let run = || -> Result<(), party::PartyError> {
        let context = election_context(election, &mut OsRng)?;
        let transcript = party::election_transcript(election)?;
        let encrypted = tally(board, &context, &mut OsRng)?;
        let mut candidates = Vec::new();
        for path in shares {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            candidates.push(
                CandidateShare::from_bytes(&bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
            );
        }
        let result = combine(context.outcome(), &encrypted, &candidates, &mut OsRng)?;
        for (who, why) in result.invalid.iter().chain(&result.discarded) {
            println!("share of {who} not used: {why}");
        }
        let results =
            ElectionResults::from_counts(context.manifest(), encrypted.ballots(), &result.counts)
                .ok_or("the tally does not fit the manifest")?;
        let used: Vec<CandidateShare> = candidates
            .into_iter()
            .filter(|s| result.combined.contains(&s.guardian()))
            .collect();
        evote::election::write_record(
            out,
            &RecordParts {
                context: &context,
                ceremony: &transcript,
                board,
                tally: &encrypted,
                shares: &used,
                results: &results,
            },
        )?;
        print!("{}", results.table());
        println!("record written to {}", out.display());
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
