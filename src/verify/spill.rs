//! External sorting of fixed-size index keys, so that the verifier's uniqueness and revoting
//! indices live in bounded memory however long the board is.
//!
//! Keys are collected in a buffer of at most [`BUFFER_KEYS`]; a full buffer is sorted and
//! written to an anonymous temporary file (a *run*). Reading back merges the runs (a k-way merge
//! over a binary heap), so equal keys come out next to each other, ordered by entry. Memory is
//! the buffer plus one read buffer per run; disk is 41 bytes per key.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Keys held in memory before a run is written (48 bytes each in memory: 24 MiB).
pub(crate) const BUFFER_KEYS: usize = 1 << 19;

/// One index key: what it is (`kind`), its 32-byte value and where it was seen (`entry`).
/// Ordered by kind, then value, then entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub(crate) kind: u8,
    pub(crate) value: [u8; 32],
    pub(crate) entry: u64,
}

const KEY_BYTES: usize = 1 + 32 + 8;

impl Key {
    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&[self.kind])?;
        out.write_all(&self.value)?;
        // Big-endian, so that byte order is numeric order (not relied on, but cheap to keep).
        out.write_all(&self.entry.to_be_bytes())
    }

    fn read(input: &mut impl Read) -> io::Result<Option<Self>> {
        let mut buf = [0u8; KEY_BYTES];
        // A run ends cleanly between keys; a run that ends inside a key is an error (a
        // silently shortened run would hide repeats).
        let (first, rest) = buf.split_at_mut(1);
        loop {
            match input.read(first) {
                Ok(0) => return Ok(None),
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        input.read_exact(rest)?;
        let (kind, rest) = buf.split_at(1);
        let (value, entry) = rest.split_at(32);
        let mut v = [0u8; 32];
        v.copy_from_slice(value);
        let mut e = [0u8; 8];
        e.copy_from_slice(entry);
        Ok(Some(Self {
            kind: kind.first().copied().unwrap_or(0),
            value: v,
            entry: u64::from_be_bytes(e),
        }))
    }
}

/// Collects keys, spilling sorted runs to temporary files.
///
/// The first failed write poisons the sorter: its buffer is dropped and every later `push`
/// fails at once with the same kind of error, so a full or missing temporary folder ends the
/// run instead of re-sorting a full buffer for every key that follows.
pub(crate) struct SpillSorter {
    buffer: Vec<Key>,
    capacity: usize,
    runs: Vec<File>,
    temp_dir: Option<PathBuf>,
    poisoned: Option<(io::ErrorKind, String)>,
}

impl SpillSorter {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_capacity(BUFFER_KEYS)
    }

    #[cfg(test)]
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self::in_dir(capacity, None)
    }

    /// A sorter whose runs go to `temp_dir` (the system's temporary folder if `None`).
    pub(crate) fn in_dir(capacity: usize, temp_dir: Option<PathBuf>) -> Self {
        Self {
            buffer: Vec::new(),
            capacity: capacity.max(1),
            runs: Vec::new(),
            temp_dir,
            poisoned: None,
        }
    }

    pub(crate) fn push(&mut self, key: Key) -> io::Result<()> {
        if let Some((kind, message)) = &self.poisoned {
            return Err(io::Error::new(*kind, message.clone()));
        }
        self.buffer.push(key);
        if self.buffer.len() >= self.capacity {
            if let Err(e) = self.spill() {
                self.poisoned = Some((e.kind(), e.to_string()));
                self.buffer = Vec::new();
                return Err(e);
            }
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable();
        let mut file = match &self.temp_dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        {
            let mut out = BufWriter::with_capacity(1 << 16, &mut file);
            for key in &self.buffer {
                key.write(&mut out)?;
            }
            out.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.buffer.clear();
        Ok(())
    }

    /// The keys in order.
    pub(crate) fn into_sorted(mut self) -> io::Result<Sorted> {
        if let Some((kind, message)) = self.poisoned.take() {
            return Err(io::Error::new(kind, message));
        }
        self.buffer.sort_unstable();
        let memory = std::mem::take(&mut self.buffer).into_iter();
        let mut readers: Vec<BufReader<File>> = self
            .runs
            .into_iter()
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some(key) = Key::read(reader)? {
                heap.push(Reverse((key, i)));
            }
        }
        Ok(Sorted {
            memory: memory.peekable(),
            readers,
            heap,
        })
    }
}

/// The merged, sorted keys of a [`SpillSorter`].
pub(crate) struct Sorted {
    memory: std::iter::Peekable<std::vec::IntoIter<Key>>,
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(Key, usize)>>,
}

impl Sorted {
    /// The next key, or `None` at the end.
    pub(crate) fn next_key(&mut self) -> io::Result<Option<Key>> {
        let from_heap = self.heap.peek().map(|Reverse((k, _))| *k);
        let from_memory = self.memory.peek().copied();
        match (from_heap, from_memory) {
            (None, None) => Ok(None),
            (Some(h), Some(m)) if m <= h => Ok(self.memory.next()),
            (None, Some(_)) => Ok(self.memory.next()),
            (Some(_), _) => {
                let Some(Reverse((key, run))) = self.heap.pop() else {
                    return Ok(None);
                };
                if let Some(reader) = self.readers.get_mut(run) {
                    if let Some(next) = Key::read(reader)? {
                        self.heap.push(Reverse((next, run)));
                    }
                }
                Ok(Some(key))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    fn random_keys(n: usize, rng: &mut ChaCha20Rng) -> Vec<Key> {
        (0..n)
            .map(|i| {
                let mut value = [0u8; 32];
                // Few distinct values, so groups of several keys occur.
                value[0] = (rng.next_u32() % 50) as u8;
                Key {
                    kind: (rng.next_u32() % 3) as u8,
                    value,
                    entry: i as u64,
                }
            })
            .collect()
    }

    #[test]
    fn the_default_buffer_is_bounded_and_large() {
        let sorter = SpillSorter::new();
        assert_eq!(sorter.capacity, BUFFER_KEYS);
        // Large enough that a million-ballot board makes tens of runs, not millions; small
        // enough to stay a few tens of MiB.
        assert!((1 << 16..=1 << 21).contains(&BUFFER_KEYS));
    }

    #[test]
    fn a_run_cut_inside_a_key_is_an_error() {
        let key = Key {
            kind: 1,
            value: [7; 32],
            entry: 9,
        };
        let mut bytes = Vec::new();
        key.write(&mut bytes).unwrap();
        key.write(&mut bytes).unwrap();
        let mut whole = &bytes[..];
        assert_eq!(Key::read(&mut whole).unwrap(), Some(key));
        assert_eq!(Key::read(&mut whole).unwrap(), Some(key));
        assert_eq!(Key::read(&mut whole).unwrap(), None);
        let mut cut = &bytes[..KEY_BYTES + 5];
        assert_eq!(Key::read(&mut cut).unwrap(), Some(key));
        assert!(Key::read(&mut cut).is_err());
    }

    /// A reader that fails once with `error`, then reads from `rest`.
    struct FailOnce<'a> {
        error: Option<io::ErrorKind>,
        rest: &'a [u8],
    }

    impl Read for FailOnce<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if let Some(kind) = self.error.take() {
                return Err(io::Error::from(kind));
            }
            self.rest.read(buf)
        }
    }

    #[test]
    fn read_errors_end_the_run_but_interruptions_are_retried() {
        let key = Key {
            kind: 2,
            value: [3; 32],
            entry: 4,
        };
        let mut bytes = Vec::new();
        key.write(&mut bytes).unwrap();
        let mut interrupted = FailOnce {
            error: Some(io::ErrorKind::Interrupted),
            rest: &bytes,
        };
        assert_eq!(Key::read(&mut interrupted).unwrap(), Some(key));
        let mut failing = FailOnce {
            error: Some(io::ErrorKind::Other),
            rest: &bytes,
        };
        assert!(Key::read(&mut failing).is_err());
    }

    #[test]
    fn a_failed_run_poisons_the_sorter_at_once() {
        let missing = std::env::temp_dir().join("evote-no-such-folder-for-runs");
        let _ = std::fs::remove_dir_all(&missing);
        let mut sorter = SpillSorter::in_dir(4, Some(missing));
        let key = Key {
            kind: 0,
            value: [1; 32],
            entry: 0,
        };
        for _ in 0..3 {
            sorter.push(key).unwrap();
        }
        let first = sorter.push(key).unwrap_err();
        assert_eq!(first.kind(), io::ErrorKind::NotFound);
        // The buffer is dropped, not kept to be re-sorted and retried with every key.
        assert!(sorter.buffer.is_empty());
        for _ in 0..10 {
            assert_eq!(
                sorter.push(key).unwrap_err().kind(),
                io::ErrorKind::NotFound
            );
            assert!(sorter.buffer.is_empty());
        }
        assert!(sorter.into_sorted().is_err());
    }

    /// Merged output equals an in-memory sort, for spills of every shape (no run, one run,
    /// many runs, a run boundary exactly at the end).
    #[test]
    fn merge_equals_sort() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for (n, capacity) in [(0, 4), (3, 4), (4, 4), (1000, 7), (1000, 1000), (999, 1)] {
            let keys = random_keys(n, &mut rng);
            let mut sorter = SpillSorter::with_capacity(capacity);
            for k in &keys {
                sorter.push(*k).unwrap();
            }
            // A run is written each time the buffer fills, and only then: memory stays bounded
            // and the number of files stays n / capacity.
            assert_eq!(
                sorter.runs.len(),
                n / capacity,
                "n = {n}, capacity = {capacity}"
            );
            assert_eq!(sorter.buffer.len(), n % capacity);
            let mut sorted = sorter.into_sorted().unwrap();
            let mut out = Vec::new();
            while let Some(k) = sorted.next_key().unwrap() {
                out.push(k);
            }
            let mut expected = keys.clone();
            expected.sort();
            assert_eq!(out, expected, "n = {n}, capacity = {capacity}");
        }
    }
}
