//! The `evote` binary, run for real: demo, verify (summary and JSON), tampered records and
//! their exit codes, verify-extension and inspect.

mod common;
use common::{copy_dir, rehash};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evote::election::record::files;
use evote::election::RecordIndex;

fn evote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evote"))
        .args(args)
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn failed_checks(o: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn demo_verify_tamper_extension_and_inspect() {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    let _ = std::fs::remove_dir_all(&base);
    let record = base.join("record");
    let out = evote(&[
        "demo",
        "--voters",
        "40",
        "--guardians",
        "3",
        "--threshold",
        "2",
        "--out",
        record.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("all 15 checks pass") && text.contains("referendum"),
        "{text}"
    );

    let ok = evote(&["verify", record.to_str().unwrap()]);
    assert_eq!(code(&ok), 0);
    assert!(String::from_utf8_lossy(&ok.stdout).contains("all checks pass"));
    let json = evote(&["verify", "--json", record.to_str().unwrap()]);
    assert_eq!(code(&json), 0);
    assert!(failed_checks(&json).is_empty());

    // Tampered records: each fails with the right check named and exit code 1.
    type Edit = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "ballot-byte",
            Box::new(|d: &Path| {
                let p = d.join(files::BOARD);
                let mut b = std::fs::read(&p).unwrap();
                b[300] ^= 1;
                std::fs::write(&p, b).unwrap();
            }),
            "V7",
        ),
        (
            "removed-entry",
            Box::new(|d: &Path| {
                // Drop the first entry: the chain no longer starts at the genesis.
                let p = d.join(files::BOARD);
                let b = std::fs::read(&p).unwrap();
                let len = u32::from_le_bytes(
                    b[common::BOARD_HEADER..common::BOARD_HEADER + 4]
                        .try_into()
                        .unwrap(),
                ) as usize;
                let mut cut = b[..common::BOARD_HEADER].to_vec();
                cut.extend_from_slice(&b[common::BOARD_HEADER + 4 + len + 64..]);
                std::fs::write(&p, cut).unwrap();
            }),
            "V7",
        ),
        (
            "changed-result",
            Box::new(|d: &Path| {
                let p = d.join(files::RESULTS);
                let t = std::fs::read_to_string(&p).unwrap();
                let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
                let c = v["contests"][0]["options"][0]["count"].as_u64().unwrap();
                v["contests"][0]["options"][0]["count"] = serde_json::Value::from(c + 1);
                std::fs::write(&p, v.to_string()).unwrap();
            }),
            "V14",
        ),
        (
            "swapped-share",
            Box::new(|d: &Path| {
                let p = d.join(files::SHARES);
                let mut b = std::fs::read(&p).unwrap();
                b[4 + 2] ^= 3; // the first share now claims another guardian index
                std::fs::write(&p, b).unwrap();
            }),
            "V13",
        ),
        (
            "missing-file",
            Box::new(|d: &Path| std::fs::remove_file(d.join(files::SHARES)).unwrap()),
            "V2",
        ),
    ];
    for (name, edit, check) in cases {
        let dir = base.join(name);
        copy_dir(&record, &dir);
        edit(&dir);
        if name != "missing-file" {
            rehash(&dir);
        }
        let o = evote(&["verify", "--json", dir.to_str().unwrap()]);
        assert_eq!(
            code(&o),
            1,
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let failed = failed_checks(&o);
        assert!(
            failed.contains(&check.to_string()),
            "{name}: failed {failed:?}, expected {check}"
        );
        let human = evote(&["verify", dir.to_str().unwrap()]);
        assert_eq!(code(&human), 1);
        assert!(String::from_utf8_lossy(&human.stdout).contains("VERIFICATION FAILED"));
    }

    // Unusable input: exit code 2 with a message.
    let dir = base.join("wrong-version");
    copy_dir(&record, &dir);
    let p = dir.join(files::INDEX);
    std::fs::write(
        &p,
        std::fs::read_to_string(&p).unwrap().replace(
            &format!("\"version\": {}", evote::election::record::RECORD_VERSION),
            "\"version\": 7",
        ),
    )
    .unwrap();
    let o = evote(&["verify", dir.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not supported"));
    let o = evote(&["verify", base.join("nowhere").to_str().unwrap()]);
    assert_eq!(code(&o), 2);

    // verify-extension: the genesis of this board is an old head; a made-up head is not.
    let index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(record.join(files::INDEX)).unwrap()).unwrap();
    let o = evote(&[
        "verify-extension",
        &index.board_head,
        record.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let o = evote(&[
        "verify-extension",
        &"ab".repeat(64),
        record.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let o = evote(&["verify-extension", "xyz", record.to_str().unwrap()]);
    assert_eq!(code(&o), 2);

    // inspect, with a tracker lookup.
    let o = evote(&["inspect", record.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("credentials: 40"));
    // An 8-digit prefix is refused (unusable: 2); a full tracker not on the board is absent (1).
    let o = evote(&["inspect", record.to_str().unwrap(), "--tracker", "00000000"]);
    assert_eq!(code(&o), 2);
    let o = evote(&[
        "check",
        record.to_str().unwrap(),
        "--tracker",
        &"0".repeat(128),
    ]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("ABSENT"));

    // A part inspect cannot read is named and makes the run unusable (2), never a summary (0).
    for name in [
        files::MANIFEST,
        files::CEREMONY,
        files::CREDENTIALS,
        files::RESULTS,
    ] {
        let broken = base.join(format!("unreadable-{name}"));
        copy_dir(&record, &broken);
        std::fs::write(broken.join(name), b"not this part").unwrap();
        let o = evote(&["inspect", broken.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{name}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(name), "{name}");
    }
}

/// `demo` checks every argument before it runs anything (exit 2, naming the option), never
/// writes over a record unless told to, and with `--force` replaces a record only with a
/// complete one, leaving no scratch file beside it.
#[test]
fn demo_refuses_bad_arguments_and_existing_records() {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-demo-arguments");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let record = base.join("record");
    let out = record.to_str().unwrap();
    for (voters, guardians, threshold, absent, named) in [
        ("0", "3", "2", "0", "--voters"),
        ("18446744073709551615", "3", "2", "0", "--voters"),
        ("100000000", "3", "2", "0", "--voters"),
        ("10", "3", "4", "0", "threshold"),
        ("10", "3", "2", "2", "absent"),
    ] {
        let o = evote(&[
            "demo",
            "--voters",
            voters,
            "--guardians",
            guardians,
            "--threshold",
            threshold,
            "--absent",
            absent,
            "--out",
            out,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            code(&o),
            2,
            "{voters} {guardians} {threshold} {absent}: {err}"
        );
        assert!(err.contains(named), "{err}");
        assert!(
            !record.exists(),
            "nothing runs before the arguments are checked"
        );
    }

    let small = |force: bool| {
        let mut args = vec![
            "demo",
            "--voters",
            "6",
            "--guardians",
            "3",
            "--threshold",
            "2",
        ];
        args.extend(["--out", out]);
        if force {
            args.push("--force");
        }
        evote(&args)
    };
    let first = small(false);
    assert_eq!(
        code(&first),
        0,
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let index = std::fs::read(record.join(files::INDEX)).unwrap();
    let again = small(false);
    assert_eq!(code(&again), 2);
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(record.join(files::INDEX)).unwrap(), index);
    let forced = small(true);
    assert_eq!(
        code(&forced),
        0,
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_ne!(std::fs::read(record.join(files::INDEX)).unwrap(), index);
    assert_eq!(code(&evote(&["verify", out])), 0);
    // Only the record is left: no board, no temporary or old record beside it or inside it.
    let beside: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("record")]);
    let mut inside: Vec<String> = std::fs::read_dir(&record)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    inside.sort();
    let mut expected: Vec<String> = files::ALL.iter().map(|s| s.to_string()).collect();
    expected.push(files::INDEX.into());
    expected.sort();
    assert_eq!(inside, expected);
}
