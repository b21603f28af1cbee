//! Record folders built by an attacker: links, FIFOs, folders and devices where files belong,
//! files longer than their format allows, and length prefixes and counts at and around every
//! limit. Each case must end, in bounded time and memory, with exit 1 (a failing check) or 2
//! (unusable input), and a message that names the file.
//!
//! The binary runs under a 1 GiB address-space limit (`ulimit -v`), so a case that tried to
//! read a device or an oversize file whole would abort instead of passing; a case that hangs
//! is killed after two minutes and fails.

mod common;
use common::{build, copy_dir, rehash, BOARD_HEADER};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use evote::decryption::CandidateShare;
use evote::election::record::{files, max_file_bytes};
use evote::election::RevotePolicy;

/// Runs `evote <command> <dir>` under the memory limit; its exit code and its output.
fn run(command: &str, dir: &Path) -> (i32, String) {
    let out = dir.with_extension("out");
    let err = dir.with_extension("err");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_evote"))
        .arg(command)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("evote {command} {} hung", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&out).unwrap() + &std::fs::read_to_string(&err).unwrap();
    (status.code().unwrap_or(-1), text)
}

/// Asserts that `verify` ends with `code` and names `file`; and that `inspect` (a summary that
/// reads the index, manifest, ceremony, credentials, board and results, not the tally or the
/// shares) ends too, naming the file whenever it does not exit 0.
fn expect(dir: &Path, code: i32, file: &str, case: &str) {
    let (got, text) = run("verify", dir);
    assert_eq!(got, code, "{case}: verify exit code\n{text}");
    assert!(
        text.contains(file),
        "{case}: verify does not name {file}\n{text}"
    );
    let (got, text) = run("inspect", dir);
    assert!(
        (0..=2).contains(&got),
        "{case}: inspect exit code {got}\n{text}"
    );
    if got != 0 {
        assert!(
            text.contains(file),
            "{case}: inspect does not name {file}\n{text}"
        );
    }
    if code == 2 && ![files::TALLY, files::SHARES].contains(&file) {
        assert_eq!(got, 2, "{case}: inspect exit code\n{text}");
    }
}

fn fresh(base: &Path, work: &Path, case: &str) -> PathBuf {
    let dir = work.join(case);
    copy_dir(base, &dir);
    dir
}

/// Overwrites 4 or 8 little-endian bytes at `offset` of a record file, then re-signs
/// `record.json` as a forger would.
fn patch(dir: &Path, name: &str, offset: usize, value: &[u8]) {
    let path = dir.join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset..offset + value.len()].copy_from_slice(value);
    std::fs::write(&path, bytes).unwrap();
    rehash(dir);
}

#[test]
fn links_fifos_folders_and_devices_are_refused_naming_the_file() {
    let (base, _, _) = build("hostile-kinds", RevotePolicy::LastCounts);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-kinds");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let elsewhere = work.join("elsewhere");
    copy_dir(&base, &elsewhere);
    let mut names = vec![files::INDEX];
    names.extend(files::ALL);
    for name in names {
        let stem = name.replace('.', "-");
        // A link to a device that never ends.
        let dir = fresh(&base, &work, &format!("{stem}-dev-zero"));
        std::fs::remove_file(dir.join(name)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join(name)).unwrap();
        expect(&dir, 2, name, &format!("{name} -> /dev/zero"));
        // A link to an identical file elsewhere: still a link, refused (a record is read from
        // its own regular files, never from wherever a link points).
        let dir = fresh(&base, &work, &format!("{stem}-link"));
        std::fs::remove_file(dir.join(name)).unwrap();
        std::os::unix::fs::symlink(elsewhere.join(name), dir.join(name)).unwrap();
        expect(&dir, 2, name, &format!("{name} -> a copy"));
        // A FIFO nobody writes to.
        let dir = fresh(&base, &work, &format!("{stem}-fifo"));
        std::fs::remove_file(dir.join(name)).unwrap();
        assert!(Command::new("mkfifo")
            .arg(dir.join(name))
            .status()
            .unwrap()
            .success());
        expect(&dir, 2, name, &format!("{name} as a FIFO"));
        // A folder.
        let dir = fresh(&base, &work, &format!("{stem}-folder"));
        std::fs::remove_file(dir.join(name)).unwrap();
        std::fs::create_dir(dir.join(name)).unwrap();
        expect(&dir, 2, name, &format!("{name} as a folder"));
    }
}

#[test]
fn files_longer_than_their_format_allows_are_refused_before_they_are_read() {
    let (base, context, _) = build("hostile-sizes", RevotePolicy::LastCounts);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-sizes");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    // Sparse files one byte over each limit: no disk used, and nothing may read them whole.
    for name in [
        files::INDEX,
        files::MANIFEST,
        files::CEREMONY,
        files::CREDENTIALS,
        files::TALLY,
        files::RESULTS,
    ] {
        let max = max_file_bytes(name).unwrap();
        let dir = fresh(&base, &work, &name.replace('.', "-"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(name))
            .unwrap();
        file.set_len(max + 1).unwrap();
        drop(file);
        expect(&dir, 2, name, &format!("{name} of {} bytes", max + 1));
    }
    // A manifest of 1 GiB of whitespace is not read (and so cannot pass).
    let dir = fresh(&base, &work, "whitespace-manifest");
    let mut text = std::fs::read(dir.join(files::MANIFEST)).unwrap();
    text.resize(1 << 30, b' ');
    std::fs::write(dir.join(files::MANIFEST), &text).unwrap();
    drop(text);
    rehash(&dir);
    expect(&dir, 2, files::MANIFEST, "1 GiB whitespace manifest");
    std::fs::remove_dir_all(&dir).unwrap();
    // shares.bin: at most one frame per guardian of the ceremony (3 here), each of the tally's
    // share length; a byte more is refused unread.
    let options = context
        .manifest()
        .contests
        .iter()
        .map(|c| c.options.len() as u64)
        .sum();
    let max = 3 * (4 + CandidateShare::encoded_len(options));
    let dir = fresh(&base, &work, "shares-over");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(files::SHARES))
        .unwrap();
    file.set_len(max + 1).unwrap();
    drop(file);
    rehash(&dir);
    expect(&dir, 2, files::SHARES, "shares.bin one byte over");
    // ... and one at the limit is read: zeros are frames of length 0, a failing check.
    let dir = fresh(&base, &work, "shares-at");
    std::fs::write(dir.join(files::SHARES), vec![0u8; max as usize]).unwrap();
    rehash(&dir);
    expect(&dir, 1, files::SHARES, "shares.bin of zeros at the limit");
    // A board of 256 MiB of zeros after its header (sparse): a failing chain, read once.
    let dir = fresh(&base, &work, "board-zeros");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(files::BOARD))
        .unwrap();
    file.set_len(BOARD_HEADER as u64).unwrap();
    file.set_len(256 << 20).unwrap();
    drop(file);
    rehash(&dir);
    expect(&dir, 1, files::BOARD, "board of zeros");
}

#[test]
fn length_prefixes_and_counts_at_and_around_every_limit_fail_naming_the_file() {
    let (base, _, _) = build("hostile-prefixes", RevotePolicy::LastCounts);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-prefixes");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let le32 = |v: u64| (v as u32).to_le_bytes().to_vec();
    // board.bin: the first entry's length (the board holds at most 64 MiB per entry).
    let board_limit = 64u64 << 20;
    for len in [
        0,
        u64::from(u32::MAX),
        board_limit - 1,
        board_limit,
        board_limit + 1,
    ] {
        let dir = fresh(&base, &work, &format!("board-{len}"));
        patch(&dir, files::BOARD, BOARD_HEADER, &le32(len));
        expect(&dir, 1, files::BOARD, &format!("board entry length {len}"));
    }
    // shares.bin: the first frame's length, around the tally's share length.
    let shares = std::fs::read(base.join(files::SHARES)).unwrap();
    let frame = u64::from(u32::from_le_bytes(shares[..4].try_into().unwrap()));
    for len in [0, u64::from(u32::MAX), frame - 1, frame + 1, 64 << 20] {
        let dir = fresh(&base, &work, &format!("shares-{len}"));
        patch(&dir, files::SHARES, 0, &le32(len));
        expect(&dir, 1, files::SHARES, &format!("share frame length {len}"));
    }
    // ceremony.bin: the first section's count (after the 42-byte header) and the first
    // package's length.
    let ceremony = std::fs::read(base.join(files::CEREMONY)).unwrap();
    let package = u64::from(u32::from_le_bytes(ceremony[46..50].try_into().unwrap()));
    for (offset, value, case) in [
        (42, u64::from(u32::MAX), "section count 2^32-1"),
        (42, 0, "section count 0"),
        (46, 0, "package length 0"),
        (46, u64::from(u32::MAX), "package length 2^32-1"),
        (46, package - 1, "package length - 1"),
        (46, package + 1, "package length + 1"),
    ] {
        let dir = fresh(&base, &work, &format!("ceremony-{offset}-{value}"));
        patch(&dir, files::CEREMONY, offset, &le32(value));
        expect(&dir, 1, files::CEREMONY, case);
    }
    // credentials.bin: a count of 2^60, of 2^64-1, and one more or less than listed.
    let credentials = std::fs::read(base.join(files::CREDENTIALS)).unwrap();
    let count = u64::from_le_bytes(credentials[..8].try_into().unwrap());
    for value in [1u64 << 60, u64::MAX, count - 1, count + 1] {
        let dir = fresh(&base, &work, &format!("credentials-{value}"));
        patch(&dir, files::CREDENTIALS, 0, &value.to_le_bytes());
        expect(
            &dir,
            1,
            files::CREDENTIALS,
            &format!("credential count {value}"),
        );
    }
    // tally.bin: its option count (after version, kind, key, H_E, head and ballots).
    for value in [0u64, u64::from(u32::MAX), 1 << 20] {
        let dir = fresh(&base, &work, &format!("tally-{value}"));
        patch(&dir, files::TALLY, 2 + 32 + 64 + 64 + 8, &le32(value));
        expect(
            &dir,
            1,
            files::TALLY,
            &format!("tally option count {value}"),
        );
    }
}
