//! Helpers shared by the record tests: copying a record and re-signing its index the way a
//! forger who edits files would.

use std::path::Path;

use evote::election::record::{file_hash, files, to_hex};
use evote::election::RecordIndex;

/// Recomputes record.json's file hashes after files were edited.
pub fn rehash(dir: &Path) {
    let path = dir.join(files::INDEX);
    let mut index: RecordIndex =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for name in files::ALL {
        if let Ok(h) = file_hash(&dir.join(name)) {
            index.files.insert(name.to_string(), to_hex(&h));
        }
    }
    std::fs::write(&path, serde_json::to_string_pretty(&index).unwrap()).unwrap();
}

/// Copies a record directory (flat).
pub fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
