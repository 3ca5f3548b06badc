//! A recording's container blocks, read by position and shared between the replays that need
//! them, so that a replay waiting for credit or for the live clock holds no thread, no file
//! handle and no buffer of its own.
//!
//! A [`BlockStore`] reads a block with positioned reads (`pread`) on one file handle shared by
//! every replay of the recording, on tokio's blocking pool, for the time of that one read: a
//! replay's task is async everywhere else. Decoded blocks are kept in a small cache bounded in
//! bytes ([`CACHE_BYTES`]): replays at the same place (every live replay at the live edge) share
//! one decoded block, and a block asked for by several replays at once is read once.
//!
//! Invariant: a [`Block`] is immutable once read; a replay keeps its place as `(block position,
//! byte position in the block)` and may drop the block while it waits and take it again later.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::recording::{
    BlockCodec, Cursor, MAX_BLOCK_BYTES, RecordView, RecordingReader, read_long_or_eof,
    unpack_snappy,
};
use crate::{Error, Result};

/// Decoded bytes the cache keeps, at most (blocks held by replays are not counted: each replay
/// holds at most one, and none while it waits for credit or for the socket).
pub const CACHE_BYTES: usize = 16 << 20;

/// A decoded container block.
#[derive(Debug)]
pub struct Block {
    /// Where the block starts in the file.
    pub position: u64,
    /// Where the next block starts.
    pub next: u64,
    /// Records in the block.
    pub count: u64,
    /// The records, Avro-encoded one after another.
    data: Vec<u8>,
}

impl Block {
    /// The record at byte position `pos` of the block and the position after it; `None` past
    /// the last record.
    pub fn record_at(&self, pos: usize) -> Option<Result<(RecordView<'_>, usize), String>> {
        if pos >= self.data.len() {
            return None;
        }
        let mut cursor = Cursor {
            bytes: &self.data,
            pos,
        };
        Some(cursor.record().map(|view| (view, cursor.pos)))
    }

    fn bytes(&self) -> usize {
        self.data.capacity() + std::mem::size_of::<Self>()
    }
}

/// The blocks of one recording, read on demand and cached.
pub struct BlockStore {
    path: PathBuf,
    file: Arc<File>,
    codec: BlockCodec,
    marker: [u8; 16],
    /// Where the first block starts (right after the header).
    first: u64,
    /// The file's length when it was opened: the end of the last block.
    len: u64,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    /// A block being read or read, by position.
    entries: HashMap<u64, Arc<OnceCell<Arc<Block>>>>,
    /// Positions in the order they were counted: the oldest goes first when the cache is full.
    order: VecDeque<u64>,
    /// The bytes counted for each position in `order`.
    sizes: HashMap<u64, usize>,
    bytes: usize,
}

impl BlockStore {
    /// Opens the recording at `path` (its header checked as [`RecordingReader::open`] does).
    pub fn open(path: &Path) -> Result<Self> {
        let mut reader = RecordingReader::open(path)?;
        let (codec, marker, first) = reader.layout()?;
        let open_error = |source| Error::OpenRecording {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let len = file.metadata().map_err(open_error)?.len();
        Ok(Self {
            path: path.to_owned(),
            file: Arc::new(file),
            codec,
            marker,
            first,
            len,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// Where the first block starts.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The block at `position` (a block boundary: [`BlockStore::first`], a [`Block::next`], or a
    /// position from the recording's [`crate::recording::BlockIndex`]); `None` at the end of the
    /// file. Reads it on the blocking pool unless cached or already being read.
    pub async fn block(self: &Arc<Self>, position: u64) -> Result<Option<Arc<Block>>> {
        let cell = {
            let mut cache = self.lock();
            Arc::clone(cache.entries.entry(position).or_default())
        };
        let store = Arc::clone(self);
        let read = cell
            .get_or_try_init(|| async move {
                let store2 = Arc::clone(&store);
                let read = tokio::task::spawn_blocking(move || store2.read_at(position))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))??;
                Ok::<_, Error>(Arc::new(read))
            })
            .await;
        match read {
            Ok(block) if block.count == 0 && block.next == position => {
                // The end of the file: nothing to keep.
                self.lock().entries.remove(&position);
                Ok(None)
            }
            Ok(block) => {
                self.admit(block);
                Ok(Some(Arc::clone(block)))
            }
            Err(e) => {
                self.lock().entries.remove(&position);
                Err(e)
            }
        }
    }

    /// Starts reading the block at `position` in the background, if it is not cached or being
    /// read: a replay streaming through the file finds its next block ready.
    pub fn prefetch(self: &Arc<Self>, position: u64) {
        if self.lock().entries.contains_key(&position) {
            return;
        }
        let store = Arc::clone(self);
        tokio::spawn(async move {
            // An error is met again, and reported, by the replay that reads this block.
            let _ = store.block(position).await;
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves only a cache behind: use it as it is.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a newly read block in the cache, and evicts the oldest past [`CACHE_BYTES`].
    fn admit(&self, block: &Block) {
        let mut cache = self.lock();
        if cache.sizes.contains_key(&block.position) {
            return;
        }
        let size = block.bytes();
        cache.order.push_back(block.position);
        cache.sizes.insert(block.position, size);
        cache.bytes += size;
        while cache.bytes > CACHE_BYTES {
            let Some(old) = cache.order.pop_front() else {
                break;
            };
            cache.entries.remove(&old);
            let size = cache.sizes.remove(&old).unwrap_or(0);
            cache.bytes = cache.bytes.saturating_sub(size);
        }
    }

    /// Reads and decodes the block at `position` (blocking). At the end of the file: an empty
    /// block whose `next` is `position`.
    fn read_at(&self, position: u64) -> Result<Block> {
        let corrupt = |reason: String| Error::CorruptRecording {
            path: self.path.clone(),
            records: 0,
            reason: format!("at byte {position}: {reason}"),
        };
        let mut head = [0u8; 20];
        let got = read_up_to(&self.file, &mut head, position)?;
        let mut input = &head[..got];
        let Some(count) = read_long_or_eof(&mut input).map_err(corrupt)? else {
            if position != self.len {
                return Err(corrupt(format!(
                    "the file ends here, though it was {} bytes long when the bridge opened it",
                    self.len
                )));
            }
            return Ok(Block {
                position,
                next: position,
                count: 0,
                data: Vec::new(),
            });
        };
        let size = read_long_or_eof(&mut input)
            .map_err(corrupt)?
            .ok_or_else(|| corrupt("the file ends inside a block header".into()))?;
        if count < 0 || size < 0 || size as u64 > MAX_BLOCK_BYTES {
            return Err(corrupt(format!(
                "bad block header: {count} records in {size} bytes"
            )));
        }
        let start = position + (got - input.len()) as u64;
        let mut compressed = vec![0u8; size as usize + 16];
        self.file
            .read_exact_at(&mut compressed, start)
            .map_err(|e| corrupt(format!("a block is cut short: {e}")))?;
        let marker = compressed.split_off(size as usize);
        if marker != self.marker {
            return Err(corrupt(
                "a block's sync marker does not match the header's".into(),
            ));
        }
        let data = match self.codec {
            BlockCodec::Null => compressed,
            BlockCodec::Snappy => {
                let mut out = Vec::new();
                unpack_snappy(&mut snap::raw::Decoder::new(), &compressed, &mut out)
                    .map_err(corrupt)?;
                out
            }
        };
        if count == 0 && !data.is_empty() {
            return Err(corrupt("an empty block holds bytes".into()));
        }
        Ok(Block {
            position,
            next: start + size as u64 + 16,
            count: count as u64,
            data,
        })
    }
}

/// Reads up to `buf.len()` bytes at `position`; fewer only at the end of the file.
fn read_up_to(file: &File, buf: &mut [u8], position: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], position + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated recording read through the store equals the sequential reader's records.
    #[tokio::test]
    async fn the_store_reads_what_the_sequential_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sgrec");
        crate::record::generate(&path, 20_000, 3, 5).unwrap();
        let expected: Vec<(i32, i64)> = RecordingReader::open(&path)
            .unwrap()
            .map(|r| r.map(|r| (r.partition, r.offset)).unwrap())
            .collect();
        let store = Arc::new(BlockStore::open(&path).unwrap());
        let mut got = Vec::new();
        let mut position = store.first();
        let mut blocks = 0;
        while let Some(block) = store.block(position).await.unwrap() {
            blocks += 1;
            let mut pos = 0;
            let mut n = 0;
            while let Some(read) = block.record_at(pos) {
                let (view, next) = read.unwrap();
                got.push((view.partition, view.offset));
                pos = next;
                n += 1;
            }
            assert_eq!(n, block.count);
            // A second ask is served by the cache: the same block.
            let again = store.block(position).await.unwrap().unwrap();
            assert!(Arc::ptr_eq(&again, &block));
            position = block.next;
        }
        assert!(blocks > 1);
        assert_eq!(got, expected);
        assert!(store.lock().bytes <= CACHE_BYTES);
    }

    /// A file cut at a block boundary after it was opened ends early: an error, not an end.
    #[tokio::test]
    async fn a_file_cut_between_blocks_after_opening_is_an_error_not_an_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sgrec");
        crate::record::generate(&path, 20_000, 2, 1).unwrap();
        let store = Arc::new(BlockStore::open(&path).unwrap());
        let first = store.block(store.first()).await.unwrap().unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(first.next).unwrap();
        let error = store.block(first.next).await.unwrap_err();
        assert!(
            error.to_string().contains("when the bridge opened it"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_cut_file_is_a_clear_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sgrec");
        crate::record::generate(&path, 5_000, 2, 1).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len - 100).unwrap();
        let store = Arc::new(BlockStore::open(&path).unwrap());
        let mut position = store.first();
        let error = loop {
            match store.block(position).await {
                Ok(Some(block)) => position = block.next,
                Ok(None) => panic!("a cut file read to its end"),
                Err(e) => break e,
            }
        };
        assert!(error.to_string().contains("cut short"), "{error}");
    }
}
