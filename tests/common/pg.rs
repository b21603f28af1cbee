//! PostgreSQL servers for the tests, started by the tests themselves: `initdb` into a temporary
//! folder, `postgres` on 127.0.0.1 on a free port, stopped and removed on drop. A primary can
//! be given a synchronous streaming standby (`pg_basebackup`). No system service is used.
//!
//! The server binaries are Debian's (`/usr/lib/postgresql/<version>/bin`, or `EVOTE_PG_BIN`).
//! When they are missing and the tests run as root with apt, `postgresql` is installed. A test
//! that needs a server and cannot start one fails, saying why; it is skipped only when
//! `EVOTE_SKIP_POSTGRES=1` says so explicitly (never in CI).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whether this process runs as root (initdb and postgres refuse to; they run as `postgres`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("EVOTE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// The server binaries' folder, installing Debian's `postgresql` once if needed; `None` only
/// under `EVOTE_SKIP_POSTGRES=1`.
pub fn bin() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(b) = find_bin() {
            return Some(b);
        }
        if is_root() && Path::new("/usr/bin/apt-get").exists() {
            eprintln!("PostgreSQL server binaries missing: installing Debian's postgresql");
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-q", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status();
            if let Some(b) = find_bin() {
                return Some(b);
            }
        }
        if std::env::var("EVOTE_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("SKIPPED: no PostgreSQL server binaries (EVOTE_SKIP_POSTGRES=1)");
            return None;
        }
        panic!(
            "these tests need PostgreSQL's server binaries (Debian: apt-get install postgresql, \
             or EVOTE_PG_BIN=<folder with initdb>); none found and none could be installed. \
             EVOTE_SKIP_POSTGRES=1 skips them explicitly."
        )
    })
    .as_deref()
}

/// Runs a server program (as `postgres` when we are root).
fn run(program: &Path, args: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    c.args(args);
    c
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One PostgreSQL server in a temporary folder.
pub struct Cluster {
    bin: PathBuf,
    /// Its data folder.
    pub dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    running: bool,
}

fn must(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "evote-pg-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if is_root() {
        must(
            {
                let mut c = Command::new("chown");
                c.args(["postgres:postgres"]).arg(&dir);
                c
            },
            "chown",
        );
    }
    dir
}

impl Cluster {
    /// A new primary (`None` only when the tests are explicitly skipped).
    pub fn primary(name: &str) -> Option<Self> {
        let bin = bin()?.to_path_buf();
        let dir = scratch(name);
        let data = dir.join("data");
        must(
            run(
                &bin.join("initdb"),
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "evote",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
            ),
            "initdb",
        );
        let port = free_port();
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             wal_level = replica\nmax_wal_senders = 4\nmax_connections = 50\n\
             shared_buffers = 64MB\nlogging_collector = off\n",
            dir.display()
        );
        append(&data.join("postgresql.conf"), &conf);
        let mut cluster = Self {
            bin,
            dir,
            port,
            running: false,
        };
        cluster.start();
        Some(cluster)
    }

    /// A primary that serves TLS with a certificate for 127.0.0.1 signed by a CA of the test's
    /// own, and refuses plain connections to database `board`; returns it and the CA's PEM file.
    pub fn primary_tls(name: &str) -> Option<(Self, PathBuf)> {
        let cluster = Self::primary(name)?;
        let dir = cluster.dir.clone();
        let openssl = |args: &[&str]| {
            let mut c = Command::new("openssl");
            c.current_dir(&dir).args(args);
            must(c, "openssl");
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=evote test CA"];
        ca.extend(ec);
        ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
        ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        ca.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(&ca);
        let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
        csr.extend(ec);
        csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(&csr);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        if is_root() {
            let mut c = Command::new("chown");
            c.args(["postgres:postgres"])
                .arg(dir.join("server.key"))
                .arg(dir.join("server.pem"));
            must(c, "chown");
        }
        let mut c = Command::new("chmod");
        c.arg("600").arg(dir.join("server.key"));
        must(c, "chmod");
        let data = cluster.data();
        append(
            &data.join("postgresql.conf"),
            &format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                dir.join("server.pem").display(),
                dir.join("server.key").display()
            ),
        );
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!("hostnossl board all 127.0.0.1/32 reject\n{rules}"),
        )
        .unwrap();
        let mut admin = cluster.client("postgres");
        admin.batch_execute("SELECT pg_reload_conf()").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let on: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
            if on == "on" {
                break;
            }
            assert!(Instant::now() < deadline, "the server never turned TLS on");
            std::thread::sleep(Duration::from_millis(50));
        }
        let ca = dir.join("ca.pem");
        Some((cluster, ca))
    }

    /// A synchronous streaming standby of `self` (named `standby1`); once it streams, the
    /// primary's commits wait for it (`synchronous_standby_names`).
    pub fn add_sync_standby(&self, name: &str) -> Self {
        let dir = scratch(name);
        let data = dir.join("data");
        must(
            run(
                &self.bin.join("pg_basebackup"),
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "evote",
                    "-D",
                    data.to_str().unwrap(),
                    "-X",
                    "stream",
                    "--no-sync",
                    "-R",
                    // An immediate checkpoint (the default spreads it over minutes).
                    "-c",
                    "fast",
                ],
            ),
            "pg_basebackup",
        );
        let port = free_port();
        let conf = format!(
            "port = {port}\nunix_socket_directories = '{}'\n\
             primary_conninfo = 'host=127.0.0.1 port={} user=evote application_name=standby1'\n",
            dir.display(),
            self.port
        );
        append(&data.join("postgresql.auto.conf"), &conf);
        let mut standby = Self {
            bin: self.bin.clone(),
            dir,
            port,
            running: false,
        };
        standby.start();
        let mut admin = self.client("postgres");
        admin
            .batch_execute("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
            .unwrap();
        admin.batch_execute("SELECT pg_reload_conf()").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let sync: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                    &[],
                )
                .unwrap()
                .get(0);
            if sync == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the standby never became synchronous"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        standby
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn start(&mut self) {
        must(
            run(
                &self.bin.join("pg_ctl"),
                &[
                    "-D",
                    self.data().to_str().unwrap(),
                    "-l",
                    self.dir.join("log").to_str().unwrap(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            ),
            "pg_ctl start",
        );
        self.running = true;
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// SIGKILL to the postmaster and every backend (as a machine that dies would).
    pub fn kill9(&mut self) {
        let pid = self.pid();
        // Backends are the postmaster's children.
        let _ = Command::new("pkill")
            .args(["-9", "-P", &pid.to_string()])
            .status();
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        self.running = false;
    }

    /// Promotes a standby to primary.
    pub fn promote(&self) {
        must(
            run(
                &self.bin.join("pg_ctl"),
                &["-D", self.data().to_str().unwrap(), "-w", "promote"],
            ),
            "pg_ctl promote",
        );
    }

    /// A connection string for database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://evote@127.0.0.1:{}/{db}", self.port)
    }

    /// A client of database `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }

    /// A new empty database; returns its connection string.
    pub fn database(&self, db: &str) -> String {
        let mut admin = self.client("postgres");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .unwrap();
        self.url(db)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let _ = run(
                &self.bin.join("pg_ctl"),
                &[
                    "-D",
                    self.data().to_str().unwrap_or(""),
                    "-m",
                    "immediate",
                    "stop",
                ],
            )
            .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}
