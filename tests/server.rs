//! The HTTP ballot box (`evote board serve`), run for real on 127.0.0.1: receipts that verify,
//! every refusal as a 4xx with its reason (bad bytes, another election, a replay, a wrong
//! length, a closed board, closing without the token), reads while it writes, and kill -9 under
//! load: every ballot that got a receipt is on the board after a restart, and voting goes on.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use evote::election::board::verify_extension;
use evote::election::Receipt;
use evote::party::{hex, unhex};
use evote::server::client::Connection;

const TOKEN: &str = "an admin token for the tests";

fn evote(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evote"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A one-guardian election with a board: (dir, election, credentials, board, key).
fn election(name: &str, voters: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("server")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (e, c, x, st) = (
        dir.join("e"),
        dir.join("c"),
        dir.join("x"),
        dir.join("g.state"),
    );
    evote(
        &[
            "election",
            "new",
            "--voters",
            voters,
            "--out",
            s(&e),
            "--credentials",
            s(&c),
        ],
        &[],
    );
    let g = |args: &[&str]| {
        let mut all = vec!["guardian"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--state",
            s(&st),
            "--passphrase-env",
            "P",
            "--kdf-memory-mib",
            "8",
        ]);
        evote(&all, &[("P", "a long passphrase")]);
    };
    g(&[
        "init",
        "--election",
        s(&e),
        "--exchange",
        s(&x),
        "--threshold",
        "1",
        "--guardians",
        "1",
        "--index",
        "1",
    ]);
    for _ in 0..3 {
        g(&["step", "--exchange", s(&x)]);
    }
    g(&["finish", "--exchange", s(&x), "--election", s(&e)]);
    let (b, k) = (dir.join("board.bin"), dir.join("box.key"));
    evote(
        &[
            "board",
            "create",
            "--election",
            s(&e),
            "--board",
            s(&b),
            "--key",
            s(&k),
        ],
        &[],
    );
    (dir, e, c, b, k)
}

/// A server process, killed when dropped (also when a test fails: a server left running would
/// keep the test harness waiting on its output).
struct Server(Child);

impl Server {
    fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }

    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server; returns it and its address.
fn serve(e: &Path, b: &Path, k: &Path) -> (Server, String) {
    serve_with(e, b, k, &[])
}

/// Starts the server with more options.
fn serve_with(e: &Path, b: &Path, k: &Path, more: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evote"))
        .args([
            "board",
            "serve",
            "--election",
            s(e),
            "--board",
            s(b),
            "--key",
            s(k),
        ])
        .args(["--listen", "127.0.0.1:0"])
        .args(more)
        .env("EVOTE_ADMIN_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (Server(child), addr)
}

fn ballot(e: &Path, c: &Path, voter: usize, out: &Path) -> Vec<u8> {
    let cred = c.join(format!("voter-{voter:06}.credential"));
    evote(
        &[
            "vote",
            "--election",
            s(e),
            "--credential",
            s(&cred),
            "--choices",
            "[[1,0],[0,0,1,0,0],[1,0,0,0,0,0,0,0]]",
            "--out",
            s(out),
        ],
        &[],
    );
    std::fs::read(out).unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(body)))
}

#[test]
fn the_ballot_box_answers_receipts_and_refuses_what_it_must() {
    let (dir, e, c, b, k) = election("answers", "4");
    let (other_dir, other_e, other_c, _, _) = election("answers-other", "2");
    let (mut server, addr) = serve(&e, &b, &k);
    let mut conn = Connection::open(&addr).unwrap();
    let about = json(&conn.request("GET", "/election", &[], &[]).unwrap().body);
    let election_hash = unhex(about["election_hash"].as_str().unwrap()).unwrap();
    let box_key =
        evote::PublicKey::from_bytes(&unhex(about["ballot_box_key"].as_str().unwrap()).unwrap())
            .unwrap();
    let good = ballot(&e, &c, 1, &dir.join("1.ballot"));
    let r = conn.request("POST", "/ballots", &[], &good).unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = json(&r.body);
    let receipt = Receipt::from_bytes(&unhex(body["receipt"].as_str().unwrap()).unwrap()).unwrap();
    let h: [u8; 64] = election_hash.clone().try_into().unwrap();
    receipt.verify(&h, &box_key).unwrap();
    assert_eq!(receipt.entry, 1);
    // Refusals, each with its status and reason.
    let foreign = ballot(&other_e, &other_c, 1, &other_dir.join("x.ballot"));
    let mut long = good.clone();
    long.push(0);
    for (bytes, status, why) in [
        (b"junk".to_vec(), 422, "bytes"),
        (long, 422, "bytes"),
        (good.clone(), 409, "identical to entry 1"),
        (foreign, 422, ""),
        // Larger than any ballot: refused before it is read (and the connection closed).
        (vec![0u8; 1 << 20], 413, ""),
    ] {
        let r = conn.request("POST", "/ballots", &[], &bytes).unwrap();
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
        if !why.is_empty() {
            assert!(String::from_utf8_lossy(&r.body).contains(why));
        }
    }
    let mut conn = Connection::open(&addr).unwrap();
    // Reads: the head, the board from entry 1, a tracker.
    let head = json(&conn.request("GET", "/head", &[], &[]).unwrap().body);
    assert_eq!(head["entries"], 1);
    let board = conn.request("GET", "/board?from=1", &[], &[]).unwrap();
    assert_eq!(board.body, std::fs::read(&b).unwrap());
    let t = json(
        &conn
            .request(
                "GET",
                &format!("/trackers/{}", hex(&receipt.tracker)),
                &[],
                &[],
            )
            .unwrap()
            .body,
    );
    assert_eq!(
        (t["status"].as_str(), t["entry"].as_u64()),
        (Some("counted"), Some(1))
    );
    // Closing needs the token; afterwards nothing is accepted.
    let r = conn
        .request(
            "POST",
            "/admin/close",
            &[("Authorization", "Bearer wrong token")],
            &[],
        )
        .unwrap();
    assert_eq!(r.status, 401);
    let r = conn
        .request(
            "POST",
            "/admin/close",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            &[],
        )
        .unwrap();
    assert_eq!(r.status, 200);
    let late = ballot(&e, &c, 2, &dir.join("2.ballot"));
    let r = conn.request("POST", "/ballots", &[], &late).unwrap();
    assert_eq!(r.status, 409);
    assert!(String::from_utf8_lossy(&r.body).contains("closed"));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_server_killed_under_load_loses_no_receipted_ballot() {
    let voters = 120;
    let (dir, e, c, b, k) = election("killed", "120");
    let ballots: Vec<Vec<u8>> = (1..=voters)
        .map(|v| ballot(&e, &c, v, &dir.join(format!("{v}.ballot"))))
        .collect();
    let (mut server, addr) = serve(&e, &b, &k);
    // Eight clients post concurrently; the server is killed (SIGKILL) once a third of the
    // ballots have receipts: mid-load.
    let receipts = post_under_load(&addr, &ballots[..80], 8, 25, || server.kill().unwrap());
    server.wait().unwrap();
    assert!(
        (25..80).contains(&receipts.len()),
        "{} receipts: the kill was not under load",
        receipts.len()
    );
    // Every receipted entry is on the board, with the head the receipt names.
    for r in &receipts {
        let (n, _) =
            verify_extension(&r.head, &b).unwrap_or_else(|e| panic!("entry {}: {e}", r.entry));
        assert_eq!(n, r.entry);
    }
    // Restarted, the box goes on: the rest of the voters post.
    let (mut server, addr) = serve(&e, &b, &k);
    let mut conn = Connection::open(&addr).unwrap();
    let mut accepted = 0;
    // The ballots that got no receipt may be on the board or not; the rest of the voters post.
    for bytes in &ballots[80..] {
        let r = conn.request("POST", "/ballots", &[], bytes).unwrap();
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        accepted += 1;
    }
    let head = json(&conn.request("GET", "/head", &[], &[]).unwrap().body);
    assert!(head["entries"].as_u64().unwrap() >= (receipts.len() + accepted) as u64);
    server.kill().unwrap();
    server.wait().unwrap();
    eprintln!(
        "{} receipts before the kill, all on the board",
        receipts.len()
    );
}

/// Whether the server has closed `stream` (a read returns end of file or a reset) within
/// `within`.
fn closed_within(stream: &mut std::net::TcpStream, within: std::time::Duration) -> bool {
    use std::io::Read;
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or other answer before the close: keep reading to the end.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// The attacker holds connections open without finishing a request (slow headers: one byte at a
/// time), and opens more connections than the box allows. The box drops the slow ones after the
/// header timeout, closes connections beyond its limit at once, and keeps serving the others.
#[test]
fn slow_clients_and_too_many_connections_cannot_hold_the_ballot_box() {
    use std::io::Write;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let (_, e, c, b, k) = election("slowloris", "3");
    let (mut server, addr) = serve_with(
        &e,
        &b,
        &k,
        &["--header-timeout", "1", "--max-connections", "2"],
    );
    // Two connections: one sends a request line and then trickles header bytes, the other
    // sends nothing at all (an idle connection holds a slot as well).
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|i| {
            let mut s = TcpStream::connect(&addr).unwrap();
            if i == 0 {
                s.write_all(b"POST /ballots HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A third is beyond the limit: closed at once, without an answer.
    let mut third = TcpStream::connect(&addr).unwrap();
    let _ = third.write_all(b"GET /head HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(closed_within(&mut third, Duration::from_secs(5)));
    // The slow ones keep trickling, but the header timeout counts from the request's start.
    let started = Instant::now();
    for s in &mut slow {
        let _ = s.write_all(b"X");
    }
    for s in &mut slow {
        assert!(closed_within(s, Duration::from_secs(5)));
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // Their slots are free again: an honest voter posts and gets a receipt.
    let bytes = ballot(&e, &c, 1, &b.with_extension("slow.ballot"));
    let mut conn = Connection::open(&addr).unwrap();
    let r = conn.request("POST", "/ballots", &[], &bytes).unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn the_booth_page_is_served_with_its_module_and_nothing_else() {
    let (dir, e, _c, b, k) = election("booth", "1");
    // Without a module the page loads and the module is a clear 404.
    let (mut server, addr) = serve(&e, &b, &k);
    let mut conn = Connection::open(&addr).unwrap();
    let page = conn.request("GET", "/", &[], &[]).unwrap();
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/booth/booth.js"));
    for file in ["booth.js", "evote.js", "strings.js", "booth.css"] {
        assert_eq!(
            conn.request("GET", &format!("/booth/{file}"), &[], &[])
                .unwrap()
                .status,
            200
        );
    }
    for missing in [
        "/booth/evote_web.wasm",
        "/booth/../Cargo.toml",
        "/booth/index.htm",
    ] {
        assert_eq!(
            conn.request("GET", missing, &[], &[]).unwrap().status,
            404,
            "{missing}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    // A file that is not a WebAssembly module is refused at start.
    let not_wasm = dir.join("not.wasm");
    std::fs::write(&not_wasm, b"<html>").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_evote"))
        .args([
            "board",
            "serve",
            "--election",
            s(&e),
            "--board",
            s(&b),
            "--key",
            s(&k),
        ])
        .args(["--listen", "127.0.0.1:0", "--booth-module", s(&not_wasm)])
        .env("EVOTE_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a WebAssembly module"));
    // With one, it is served as the module.
    let module = dir.join("booth.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let (_server, addr) = serve_with(&e, &b, &k, &["--booth-module", s(&module)]);
    let mut conn = Connection::open(&addr).unwrap();
    let served = conn
        .request("GET", "/booth/evote_web.wasm", &[], &[])
        .unwrap();
    assert_eq!(
        (served.status, served.body.as_slice()),
        (200, b"\0asm\x01\0\0\0".as_slice())
    );
}

mod common;
use common::pg;

/// Creates a board in the PostgreSQL database `url` with a new key file `key`.
fn create_postgres_board(e: &Path, url: &str, key: &Path) {
    evote(
        &[
            "board",
            "create",
            "--election",
            s(e),
            "--board",
            url,
            "--key",
            s(key),
        ],
        &[],
    );
}

/// `evote board export` of `url` into `out` (replaced).
fn export(url: &str, out: &Path) {
    let _ = std::fs::remove_file(out);
    evote(&["board", "export", "--board", url, "--out", s(out)], &[]);
}

/// Posts `ballots` from `clients` concurrent connections until one is refused or fails;
/// calls `during` once `after` receipts exist (with the receipts so far). Returns every receipt.
fn post_under_load(
    addr: &str,
    ballots: &[Vec<u8>],
    clients: usize,
    after: usize,
    during: impl FnOnce(),
) -> Vec<Receipt> {
    let receipts = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for chunk in ballots.chunks(ballots.len().div_ceil(clients)) {
            let receipts = &receipts;
            scope.spawn(move || {
                let Ok(mut conn) = Connection::open(addr) else {
                    return;
                };
                for bytes in chunk {
                    match conn.request("POST", "/ballots", &[], bytes) {
                        Ok(r) if r.status == 201 => {
                            let body = json(&r.body);
                            let receipt = Receipt::from_bytes(
                                &unhex(body["receipt"].as_str().unwrap()).unwrap(),
                            )
                            .unwrap();
                            receipts.lock().unwrap().push(receipt);
                        }
                        _ => return,
                    }
                }
            });
        }
        let started = std::time::Instant::now();
        while receipts.lock().unwrap().len() < after && started.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        during();
    });
    receipts.into_inner().unwrap()
}

/// Posts one ballot, retrying while the ballot box answers 503 (its database is failing over):
/// the receipt, within `patience`.
fn post_retrying(addr: &str, bytes: &[u8], patience: std::time::Duration) -> Receipt {
    let started = std::time::Instant::now();
    loop {
        if let Ok(mut conn) = Connection::open(addr) {
            if let Ok(r) = conn.request("POST", "/ballots", &[], bytes) {
                if r.status == 201 {
                    let body = json(&r.body);
                    return Receipt::from_bytes(&unhex(body["receipt"].as_str().unwrap()).unwrap())
                        .unwrap();
                }
                // A ballot whose batch committed but was not answered before the failover is
                // on the board: refused as a duplicate, which is an answer too.
                assert!(
                    r.status == 503 || r.status == 409,
                    "{}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                if r.status == 409 {
                    panic!("unexpected refusal: {}", String::from_utf8_lossy(&r.body));
                }
            }
        }
        assert!(
            started.elapsed() < patience,
            "no receipt within {patience:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The ballot box on PostgreSQL answers as on a file: receipts, refusals, the board's bytes
/// from any entry (the very bytes `board export` writes), tracker lookups, the close.
#[test]
fn the_ballot_box_on_postgres_serves_the_board_files_bytes() {
    let Some(db) = pg::Cluster::primary("serve") else {
        return;
    };
    let url = db.database("board");
    let (dir, e, c, _, _) = election("postgres-serve", "4");
    let key = dir.join("pg.key");
    create_postgres_board(&e, &url, &key);
    let (mut server, addr) = serve(&e, Path::new(&url), &key);
    let mut conn = Connection::open(&addr).unwrap();
    let mut receipts = Vec::new();
    for v in 1..=3 {
        let b = ballot(&e, &c, v, &dir.join(format!("{v}.ballot")));
        let r = conn.request("POST", "/ballots", &[], &b).unwrap();
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        receipts.push(
            Receipt::from_bytes(&unhex(json(&r.body)["receipt"].as_str().unwrap()).unwrap())
                .unwrap(),
        );
        let again = conn.request("POST", "/ballots", &[], &b).unwrap();
        assert_eq!(again.status, 409);
    }
    let exported = dir.join("exported.bin");
    export(&url, &exported);
    let file = std::fs::read(&exported).unwrap();
    let whole = conn.request("GET", "/board?from=1", &[], &[]).unwrap();
    assert_eq!(whole.body, file);
    // From entry 2: the file's bytes after the header and the first entry.
    let from2 = conn.request("GET", "/board?from=2", &[], &[]).unwrap();
    assert!(file.ends_with(&from2.body));
    assert_eq!(
        from2.body.len(),
        file.len() - common::BOARD_HEADER - (file.len() - common::BOARD_HEADER) / 3
    );
    for r in &receipts {
        assert_eq!(verify_extension(&r.head, &exported).unwrap().0, r.entry);
        let t = json(
            &conn
                .request("GET", &format!("/trackers/{}", hex(&r.tracker)), &[], &[])
                .unwrap()
                .body,
        );
        assert_eq!(t["status"].as_str(), Some("counted"));
    }
    let r = conn
        .request(
            "POST",
            "/admin/close",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            &[],
        )
        .unwrap();
    assert_eq!(r.status, 200);
    server.kill().unwrap();
    server.wait().unwrap();
    export(&url, &exported);
    // The close is the exported board's last entry, after the three ballots.
    let mut reader =
        evote::election::board::BoardReader::new(std::fs::File::open(&exported).unwrap()).unwrap();
    let mut last = None;
    while let Some(entry) = reader.next_checked().unwrap() {
        last = Some(entry);
    }
    assert!(matches!(
        last,
        Some(evote::election::board::Entry::Close { number: 4, .. })
    ));
}

/// Kill -9 the primary under load, promote its synchronous standby: the ballot box (given both
/// hosts, `target_session_attrs=read-write`) finds the new primary by itself, every ballot that
/// got a receipt is on the new primary's board, and the chain continues.
#[test]
fn a_primary_killed_under_load_loses_no_receipted_ballot_after_failover() {
    let Some(mut primary) = pg::Cluster::primary("failover-primary") else {
        return;
    };
    primary.database("board");
    let standby = primary.add_sync_standby("failover-standby");
    let url = format!(
        "postgres://evote@127.0.0.1:{},127.0.0.1:{}/board?target_session_attrs=read-write",
        primary.port, standby.port
    );
    let voters = 40;
    let (dir, e, c, _, _) = election("postgres-failover", "40");
    let key = dir.join("pg.key");
    create_postgres_board(&e, &url, &key);
    let ballots: Vec<Vec<u8>> = (1..=voters)
        .map(|v| ballot(&e, &c, v, &dir.join(format!("{v}.ballot"))))
        .collect();
    let (mut server, addr) = serve(&e, Path::new(&url), &key);
    let receipts = post_under_load(&addr, &ballots[..28], 4, 8, || primary.kill9());
    assert!(
        (8..28).contains(&receipts.len()),
        "{} receipts: the kill was not under load",
        receipts.len()
    );
    standby.promote();
    // The ballot box reconnects to the promoted standby by itself.
    let patience = std::time::Duration::from_secs(60);
    let later: Vec<Receipt> = ballots[28..]
        .iter()
        .map(|b| post_retrying(&addr, b, patience))
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();
    let exported = dir.join("after-failover.bin");
    export(&standby.url("board"), &exported);
    for r in receipts.iter().chain(&later) {
        let (n, _) = verify_extension(&r.head, &exported)
            .unwrap_or_else(|e| panic!("entry {}: {e}", r.entry));
        assert_eq!(n, r.entry);
    }
    eprintln!(
        "{} receipts before the kill and {} after the failover, all on the new primary",
        receipts.len(),
        later.len()
    );
}

/// Two ballot boxes on one database: the second is refused while the first writes under load;
/// once the first is killed, the second takes over and continues the one chain; no ballot is
/// acknowledged twice.
#[test]
fn a_second_ballot_box_on_one_database_is_refused_then_takes_over() {
    let Some(db) = pg::Cluster::primary("two-writers") else {
        return;
    };
    let url = db.database("board");
    let (dir, e, c, _, _) = election("postgres-two", "36");
    let key = dir.join("pg.key");
    create_postgres_board(&e, &url, &key);
    let ballots: Vec<Vec<u8>> = (1..=36)
        .map(|v| ballot(&e, &c, v, &dir.join(format!("{v}.ballot"))))
        .collect();
    let (mut first, addr) = serve(&e, Path::new(&url), &key);
    let mut second_refusal = String::new();
    let mut receipts = post_under_load(&addr, &ballots[..24], 4, 6, || {
        // The second ballot box, started while the first writes: refused, saying why.
        let out = Command::new(env!("CARGO_BIN_EXE_evote"))
            .args([
                "board",
                "serve",
                "--election",
                s(&e),
                "--board",
                &url,
                "--key",
                s(&key),
            ])
            .args(["--listen", "127.0.0.1:0"])
            .env("EVOTE_ADMIN_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert!(!out.status.success());
        second_refusal = String::from_utf8_lossy(&out.stderr).into_owned();
        first.kill().unwrap();
    });
    first.wait().unwrap();
    assert!(
        second_refusal.contains("another writer"),
        "{second_refusal}"
    );
    let before = receipts.len();
    let (mut second, addr) = serve(&e, Path::new(&url), &key);
    let mut conn = Connection::open(&addr).unwrap();
    for b in &ballots[24..] {
        let r = conn.request("POST", "/ballots", &[], b).unwrap();
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        receipts.push(
            Receipt::from_bytes(&unhex(json(&r.body)["receipt"].as_str().unwrap()).unwrap())
                .unwrap(),
        );
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let exported = dir.join("two.bin");
    export(&url, &exported);
    let mut entries = std::collections::HashSet::new();
    let mut trackers = std::collections::HashSet::new();
    for r in &receipts {
        assert_eq!(verify_extension(&r.head, &exported).unwrap().0, r.entry);
        assert!(
            entries.insert(r.entry),
            "entry {} acknowledged twice",
            r.entry
        );
        assert!(trackers.insert(r.tracker), "a ballot acknowledged twice");
    }
    assert!(
        (6..24).contains(&before),
        "{before} receipts before the kill"
    );
}
