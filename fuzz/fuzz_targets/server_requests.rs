//! Requests to the HTTP ballot box from a hostile client: raw bytes as a whole request, or
//! hostile bodies, tracker paths and query strings on every route. The server never panics or
//! hangs: after every input it still answers `GET /head`, and a POSTed body it accepts is a
//! ballot that verifies (checked by the board itself).
#![no_main]
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use evote::election::{BallotBoard, BallotBoxKey, Contest, Manifest, RevotePolicy};
use evote::party::{files, hex, write_atomically};
use evote::server::client::Connection;
use evote::server::{serve, ServerConfig};
use evote::simulation::Election;
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A server on 127.0.0.1 for a one-contest election, started once.
fn server() -> &'static str {
    static ADDR: OnceLock<String> = OnceLock::new();
    ADDR.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let manifest = Manifest {
            election_id: "fuzz".into(),
            nonce: Manifest::fresh_nonce(&mut rng),
            title: "fuzz".into(),
            revoting: RevotePolicy::LastCounts,
            contests: vec![Contest {
                id: "c".into(),
                title: "contest".into(),
                options: vec!["a".into(), "b".into()],
                min_selections: 1,
                max_selections: 1,
                option_limit: 1,
            }],
        };
        let e = Election::new([9; 32], 1, 1, manifest, 4, &mut rng).unwrap();
        let dir = std::env::temp_dir().join(format!("evote-fuzz-server-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let folder = dir.join("election");
        write_atomically(
            &folder.join(files::MANIFEST),
            e.context.manifest().to_json().as_bytes(),
        )
        .unwrap();
        write_atomically(
            &folder.join(files::CREDENTIALS),
            &e.context.credentials().to_bytes(),
        )
        .unwrap();
        write_atomically(&folder.join(files::CEREMONY), &e.transcript.to_bytes()).unwrap();
        let board = dir.join("board.bin");
        let key = BallotBoxKey::generate(&mut rng);
        drop(BallotBoard::create(&board, &e.context, key.clone()).unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let config = ServerConfig {
            election: folder,
            board: evote::election::BoardLocation::File(board),
            key,
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_token: "fuzzing admin token".into(),
            max_connections: evote::server::MAX_CONNECTIONS,
            header_timeout: evote::server::HEADER_TIMEOUT,
            booth_module: None,
        };
        std::thread::spawn(move || serve(config, move |a| tx.send(a).unwrap()).unwrap());
        rx.recv().unwrap().to_string()
    })
}

fn raw(addr: &str, request: &[u8]) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        panic!("the server stopped accepting connections");
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(request);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
}

fuzz_target!(|data: &[u8]| {
    let addr = server();
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    match op % 5 {
        0 => raw(addr, rest),
        1 | 2 => {
            let path = if op % 5 == 1 {
                "/ballots"
            } else {
                "/challenges"
            };
            if let Ok(mut c) = Connection::open(addr) {
                let _ = c.request("POST", path, &[], rest);
            }
        }
        3 => {
            let path = format!("/trackers/{}", hex(rest));
            if let Ok(mut c) = Connection::open(addr) {
                let _ = c.request("GET", &path, &[], &[]);
            }
        }
        _ => {
            let q: String = rest.iter().map(|b| format!("%{b:02x}")).collect();
            if let Ok(mut c) = Connection::open(addr) {
                let _ = c.request("GET", &format!("/board?from={q}"), &[], &[]);
                let _ = c.request(
                    "POST",
                    "/admin/close",
                    &[("Authorization", &format!("Bearer {q}"))],
                    &[],
                );
            }
        }
    }
    // Still serving.
    let mut c = Connection::open(addr).expect("the server stopped");
    let head = c
        .request("GET", "/head", &[], &[])
        .expect("the server did not answer");
    assert_eq!(head.status, 200);
});
