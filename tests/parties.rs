//! Every party its own process: the pilot election script (a 3-of-5 ceremony of five guardian
//! processes with sealed state files, a guardian killed and resumed, 50 voters, a challenge, a
//! revote, a refused replay, an absent guardian, the record verified), and the refusals of the
//! ballot box and of a guardian's step, through the `evote` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn evote(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evote"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn work(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("parties")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_pilot_election_runs_every_party_as_its_own_process_and_verifies() {
    let dir = work("pilot");
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pilot.sh"))
        .arg(&dir)
        .env("EVOTE", env!("CARGO_BIN_EXE_evote"))
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("all checks pass"), "{shown}");
    assert!(shown.contains("replayed ballot refused"), "{shown}");
    assert!(
        shown.contains("ballots accepted with a verified receipt: 50"),
        "{shown}"
    );
    assert!(
        shown.contains("51 ballots on the board, 50 counted"),
        "{shown}"
    );
}

/// A one-guardian election, ready for ballots: (election folder, credentials, board, key).
fn small_election(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let e = dir.join(format!("{name}-election"));
    let creds = dir.join(format!("{name}-credentials"));
    let x = dir.join(format!("{name}-exchange"));
    ok(&evote(
        &[
            "election",
            "new",
            "--voters",
            "3",
            "--out",
            s(&e),
            "--credentials",
            s(&creds),
        ],
        &[],
    ));
    let g = |args: &[&str]| guardian(dir, name, args);
    ok(&g(&[
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
    ]));
    for _ in 0..3 {
        ok(&g(&["step", "--exchange", s(&x)]));
    }
    ok(&g(&["finish", "--exchange", s(&x), "--election", s(&e)]));
    let board = dir.join(format!("{name}-board.bin"));
    let key = dir.join(format!("{name}-box.key"));
    ok(&evote(
        &[
            "board",
            "create",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--key",
            s(&key),
        ],
        &[],
    ));
    (e, creds, board, key)
}

#[test]
fn the_ballot_box_refuses_bad_bytes_other_elections_replays_oversize_and_a_closed_board() {
    let dir = work("refusals");
    let (e, creds, board, key) = small_election(&dir, "a");
    let (other, other_creds, _, _) = small_election(&dir, "b");
    let choices = "[[1,0],[0,0,1,0,0],[1,0,0,0,0,0,0,0]]";
    let vote = |e: &Path, creds: &Path, out: &Path| {
        ok(&evote(
            &[
                "vote",
                "--election",
                s(e),
                "--credential",
                s(&creds.join("voter-000001.credential")),
                "--choices",
                choices,
                "--out",
                s(out),
            ],
            &[],
        ));
    };
    let good = dir.join("good.ballot");
    vote(&e, &creds, &good);
    let foreign = dir.join("foreign.ballot");
    vote(&other, &other_creds, &foreign);
    let garbage = dir.join("garbage.ballot");
    std::fs::write(&garbage, b"not a ballot").unwrap();
    let oversize = dir.join("oversize.ballot");
    let mut long = std::fs::read(&good).unwrap();
    long.push(0);
    std::fs::write(&oversize, &long).unwrap();
    let submit = |files: &[&Path]| {
        let mut args = vec![
            "board",
            "submit",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--key",
            s(&key),
        ];
        args.extend(files.iter().map(|f| s(f)));
        evote(&args, &[])
    };
    ok(&submit(&[&good]));
    for (bad, why) in [
        (&garbage, "refused"),
        (&foreign, "refused"),
        (&oversize, "refused"),
        (&good, "identical to entry 1"),
    ] {
        let o = submit(&[bad]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(why), "{}", text(&o));
    }
    // Another ballot box's key is refused for this board.
    let other_key = dir.join("b-box.key");
    let o = evote(
        &[
            "board",
            "submit",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--key",
            s(&other_key),
            s(&good),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    ok(&evote(
        &[
            "board",
            "close",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--key",
            s(&key),
        ],
        &[],
    ));
    let again = dir.join("again.ballot");
    vote(&e, &creds, &again);
    let o = submit(&[&again]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("closed"), "{}", text(&o));
}

#[test]
fn a_guardian_refuses_a_wrong_passphrase_a_second_start_and_a_forged_message_of_its_own() {
    let dir = work("guardian-refusals");
    let e = dir.join("election");
    ok(&evote(
        &[
            "election",
            "new",
            "--voters",
            "2",
            "--out",
            s(&e),
            "--credentials",
            s(&dir.join("c")),
        ],
        &[],
    ));
    let x = dir.join("exchange");
    let state = |i: u32| dir.join(format!("g{i}.state"));
    let g = |i: u32, pass: &str, args: &[&str]| {
        let st = state(i);
        let mut all = vec!["guardian"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--state",
            s(&st),
            "--passphrase-env",
            "PASS",
            "--kdf-memory-mib",
            "8",
        ]);
        evote(&all, &[("PASS", pass)])
    };
    for i in 1..=3u32 {
        let index = i.to_string();
        ok(&g(
            i,
            "passphrase one",
            &[
                "init",
                "--election",
                s(&e),
                "--exchange",
                s(&x),
                "--threshold",
                "2",
                "--guardians",
                "3",
                "--index",
                &index,
            ],
        ));
    }
    // A second init would start a second polynomial: refused.
    let o = g(
        1,
        "passphrase one",
        &[
            "init",
            "--election",
            s(&e),
            "--exchange",
            s(&x),
            "--threshold",
            "2",
            "--guardians",
            "3",
            "--index",
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A wrong passphrase: the state does not open, the error names the file.
    let o = g(1, "passphrase two", &["step", "--exchange", s(&x)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("g1.state"), "{}", text(&o));
    // Someone replaces guardian 1's published hash: guardian 1 refuses to go on over it.
    let published = x.join("round1").join("guardian-1.bin");
    let honest = std::fs::read(&published).unwrap();
    let mut forged = honest.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    std::fs::write(&published, &forged).unwrap();
    let o = g(1, "passphrase one", &["step", "--exchange", s(&x)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("another message"), "{}", text(&o));
    // A garbage file for guardian 3: the others see it refused (status) and wait for it.
    std::fs::write(&published, &honest).unwrap();
    std::fs::write(x.join("round1").join("guardian-3.bin"), b"junk").unwrap();
    let shown = ok(&g(2, "passphrase one", &["status", "--exchange", s(&x)]));
    assert!(
        shown.contains("refused") && shown.contains("guardian-3.bin"),
        "{shown}"
    );
    let shown = ok(&g(2, "passphrase one", &["step", "--exchange", s(&x)]));
    assert!(shown.contains("waiting for round 1"), "{shown}");
    // Guardian 3 republishes its own message on its next step; then everyone goes on.
    std::fs::remove_file(x.join("round1").join("guardian-3.bin")).unwrap();
    ok(&g(3, "passphrase one", &["step", "--exchange", s(&x)]));
    let shown = ok(&g(2, "passphrase one", &["step", "--exchange", s(&x)]));
    assert!(shown.contains("revealed"), "{shown}");
}

/// The guardian arguments of `small_election`'s single guardian.
fn guardian(dir: &Path, name: &str, args: &[&str]) -> Output {
    let state = dir.join(format!("{name}-guardian.state"));
    let mut all = vec!["guardian"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--state",
        s(&state),
        "--passphrase-env",
        "PASS",
        "--kdf-memory-mib",
        "8",
    ]);
    evote(&all, &[("PASS", "a long passphrase")])
}

#[test]
fn a_voter_pinned_to_the_election_hash_needs_only_the_context_and_a_guardian_decrypts_only_the_recomputed_tally(
) {
    let dir = work("pinned");
    let (e, creds, board, key) = small_election(&dir, "a");
    let (other, _, _, _) = small_election(&dir, "b");
    let hash = |e: &Path| {
        let context =
            evote::party::election_context(e, &mut rand_core::OsRng).expect("election context");
        hex::encode(context.hash())
    };
    let trusted = hash(&e);
    // The voter's folder holds only the published context.bin: no transcript, no credentials.
    let booth = dir.join("booth");
    std::fs::create_dir_all(&booth).unwrap();
    std::fs::copy(e.join("context.bin"), booth.join("context.bin")).unwrap();
    let vote = |folder: &Path, pin: &str, voter: usize, out: &Path| {
        evote(
            &[
                "vote",
                "--election",
                s(folder),
                "--election-hash",
                pin,
                "--credential",
                s(&creds.join(format!("voter-{voter:06}.credential"))),
                "--choices",
                "[[1,0],[0,0,1,0,0],[1,0,0,0,0,0,0,0]]",
                "--out",
                s(out),
            ],
            &[],
        )
    };
    let mut ballots = Vec::new();
    for voter in 1..=3 {
        let out = dir.join(format!("pinned-{voter}.ballot"));
        ok(&vote(&booth, &trusted, voter, &out));
        ballots.push(out);
    }
    // Another hash, or another election's context under this hash: refused, nothing written.
    let mut wrong = trusted.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let refused = dir.join("refused.ballot");
    let o = vote(&booth, std::str::from_utf8(&wrong).unwrap(), 1, &refused);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("not the election hash trusted"),
        "{}",
        text(&o)
    );
    std::fs::copy(other.join("context.bin"), booth.join("context.bin")).unwrap();
    let o = vote(&booth, &trusted, 1, &refused);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!refused.exists());
    // The ballots made from the context alone are this election's: the box accepts them.
    let mut args = vec![
        "board",
        "submit",
        "--election",
        s(&e),
        "--board",
        s(&board),
        "--key",
        s(&key),
    ];
    args.extend(ballots.iter().map(|b| s(b)));
    ok(&evote(&args, &[]));
    ok(&evote(
        &[
            "board",
            "close",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--key",
            s(&key),
        ],
        &[],
    ));
    let tally = dir.join("tally.bin");
    let said = ok(&evote(
        &[
            "tally",
            "--election",
            s(&e),
            "--board",
            s(&board),
            "--out",
            s(&tally),
        ],
        &[],
    ));
    assert!(said.contains("tally of 3 ballots"), "{said}");
    let bytes = std::fs::read(&tally).unwrap();
    let candidate = evote::tally::TallyCandidate::from_bytes(&bytes).unwrap();
    assert_eq!(candidate.ballots(), 3);
    // A published tally that is not this board's (one byte of its head changed) is refused, and
    // the refusal does not spend the guardian's one decryption.
    let forged = dir.join("forged-tally.bin");
    let mut other_bytes = bytes.clone();
    other_bytes[2 + 32 + 64] ^= 1;
    std::fs::write(&forged, &other_bytes).unwrap();
    let share = dir.join("share.bin");
    let decrypt = |published: &Path| {
        guardian(
            &dir,
            "a",
            &[
                "decrypt",
                "--election",
                s(&e),
                "--board",
                s(&board),
                "--out",
                s(&share),
                "--tally",
                s(published),
            ],
        )
    };
    let o = decrypt(&forged);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("not the tally of this board"),
        "{}",
        text(&o)
    );
    assert!(!share.exists());
    ok(&decrypt(&tally));
    assert!(share.exists());
}
