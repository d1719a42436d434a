//! A checkpoint's tensors, memory-mapped: one `model.safetensors`, or the
//! shards a `model.safetensors.index.json` names. Nothing is copied; typed
//! accessors check dtype and shape and name the tensor and file in errors.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use half::bf16;
use memmap2::Mmap;
use mxfp4::{Bf16Matrix, Mxfp4Experts};
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::config::read_json;
use crate::error::{ModelError, Result};

pub const SINGLE_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

struct Shard {
    path: PathBuf,
    map: Mmap,
}

struct Entry {
    shard: usize,
    dtype: Dtype,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

/// The tensors of a checkpoint directory.
pub struct Checkpoint {
    shards: Vec<Shard>,
    tensors: HashMap<String, Entry>,
    /// Byte ranges of each shard that the model no longer reads.
    released: Mutex<Vec<(usize, Range<usize>)>>,
}

/// Released ranges are advised out of memory in whole units of this size,
/// a multiple of every common page size (4, 16 and 64 KiB).
const RELEASE_UNIT: usize = 64 << 10;

#[derive(Deserialize)]
struct Index {
    weight_map: HashMap<String, String>,
}

impl Checkpoint {
    /// Maps every shard of the checkpoint in `dir` and reads their headers.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::Io {
                path: dir.into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such model directory"),
            });
        }
        let index_path = dir.join(INDEX_FILE);
        let (files, index) = if index_path.exists() {
            let index: Index = read_json(&index_path)?;
            let files: BTreeSet<&String> = index.weight_map.values().collect();
            (files.into_iter().map(|f| dir.join(f)).collect(), Some(index))
        } else {
            let single = dir.join(SINGLE_FILE);
            if !single.exists() {
                return Err(ModelError::Io {
                    path: dir.into(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no {SINGLE_FILE} or {INDEX_FILE} in this directory"),
                    ),
                });
            }
            (vec![single], None)
        };
        let mut checkpoint = Checkpoint { shards: Vec::new(), tensors: HashMap::new(), released: Mutex::default() };
        for path in files {
            checkpoint.add_shard(path)?;
        }
        if let Some(index) = index {
            for (name, file) in &index.weight_map {
                let path = dir.join(file);
                let in_place = checkpoint.tensors.get(name).is_some_and(|e| checkpoint.shards[e.shard].path == path);
                if !in_place {
                    return Err(ModelError::Safetensors {
                        path,
                        reason: format!("the index places tensor `{name}` here, but the file does not hold it"),
                    });
                }
            }
        }
        Ok(checkpoint)
    }

    fn add_shard(&mut self, path: PathBuf) -> Result<()> {
        let file = File::open(&path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
        // SAFETY: the map is read-only and lives as long as the views handed
        // out from it. Another process truncating the file while it is
        // mapped would fault, as with every memory-mapped model loader; the
        // checkpoint files are not expected to change while served.
        let map = unsafe { Mmap::map(&file) }.map_err(|source| ModelError::Io { path: path.clone(), source })?;
        let parsed = SafeTensors::deserialize(&map)
            .map_err(|e| ModelError::Safetensors { path: path.clone(), reason: e.to_string() })?;
        let shard = self.shards.len();
        let base = map.as_ptr() as usize;
        for (name, view) in parsed.tensors() {
            let start = view.data().as_ptr() as usize - base;
            let entry = Entry {
                shard,
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                start,
                end: start + view.data().len(),
            };
            if self.tensors.insert(name.clone(), entry).is_some() {
                return Err(ModelError::Safetensors {
                    path,
                    reason: format!("tensor `{name}` appears in more than one shard"),
                });
            }
        }
        self.shards.push(Shard { path, map });
        Ok(())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Tensor names, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Reads every page of every shard once, but those of released tensors,
    /// so that the first forward pass does not wait on the disk. `progress`
    /// gets the bytes read so far, in steps of a few megabytes, up to
    /// [`Checkpoint::prefetch_len`].
    pub fn prefetch(&self, mut progress: impl FnMut(u64)) {
        const PAGE: usize = 4096;
        const STEP: usize = 16 << 20;
        let mut done = 0u64;
        for (s, shard) in self.shards.iter().enumerate() {
            for range in self.kept_ranges(s) {
                for chunk in shard.map[range].chunks(STEP) {
                    let sum = chunk.iter().step_by(PAGE).fold(0u8, |a, &b| a.wrapping_add(b));
                    std::hint::black_box(sum);
                    done += chunk.len() as u64;
                    progress(done);
                }
            }
        }
    }

    /// Bytes [`Checkpoint::prefetch`] reads: every shard's, less released tensors'.
    pub fn prefetch_len(&self) -> u64 {
        (0..self.shards.len()).flat_map(|s| self.kept_ranges(s)).map(|r| r.len() as u64).sum()
    }

    /// Shard `s` less its released ranges, in order.
    fn kept_ranges(&self, s: usize) -> Vec<Range<usize>> {
        let mut released: Vec<Range<usize>> = self
            .released
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(rs, _)| *rs == s)
            .map(|(_, r)| r.clone())
            .collect();
        released.sort_by_key(|r| r.start);
        let mut kept = Vec::new();
        let mut at = 0;
        for r in released {
            if r.start > at {
                kept.push(at..r.start);
            }
            at = at.max(r.end);
        }
        let len = self.shards[s].map.len();
        if at < len {
            kept.push(at..len);
        }
        kept
    }

    /// Tells the checkpoint that the model no longer reads tensor `name`
    /// (it holds a converted copy): [`Checkpoint::prefetch`] skips it and
    /// its pages leave this process's resident memory, so that the copy
    /// does not add to it. Views of it stay valid; reading them again only
    /// faults the pages back in. Unknown names are ignored.
    pub fn release(&self, name: &str) {
        let Some(entry) = self.tensors.get(name) else { return };
        let shard = &self.shards[entry.shard];
        // Whole units inside the tensor: its neighbours stay resident.
        let start = entry.start.next_multiple_of(RELEASE_UNIT);
        let end = entry.end / RELEASE_UNIT * RELEASE_UNIT;
        if end > start {
            advise_dont_need(&shard.map, start, end - start);
        }
        self.released.lock().unwrap_or_else(|p| p.into_inner()).push((entry.shard, entry.start..entry.end));
    }

    /// Bytes of all shards: what loading maps.
    pub fn byte_len(&self) -> usize {
        self.shards.iter().map(|s| s.map.len()).sum()
    }

    /// The bytes of tensor `name`, checked to have `dtype` and `shape`.
    fn bytes(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&[u8]> {
        let entry = self.tensors.get(name).ok_or_else(|| ModelError::MissingTensor { name: name.into() })?;
        let shard = &self.shards[entry.shard];
        let mismatch = |expected: String, found: String| ModelError::Tensor {
            name: name.into(),
            path: shard.path.clone(),
            expected,
            found,
        };
        if entry.dtype != dtype {
            return Err(mismatch(format!("dtype {dtype:?}"), format!("{:?}", entry.dtype)));
        }
        if entry.shape != shape {
            return Err(mismatch(format!("shape {shape:?}"), format!("{:?}", entry.shape)));
        }
        Ok(&shard.map[entry.start..entry.end])
    }

    /// A bf16 tensor of exactly `shape`.
    pub fn bf16(&self, name: &str, shape: &[usize]) -> Result<&[bf16]> {
        let bytes = self.bytes(name, Dtype::BF16, shape)?;
        Ok(bf16_slice(name, bytes)?)
    }

    /// A bf16 `rows x cols` matrix, for the dense kernels.
    pub fn bf16_matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Bf16Matrix<'_>> {
        let bytes = self.bytes(name, Dtype::BF16, &[rows, cols])?;
        Ok(Bf16Matrix::from_bytes(name, bytes, rows, cols)?)
    }

    /// The MXFP4 projection `{prefix}_blocks` / `{prefix}_scales` of every
    /// expert, `rows x cols` each.
    pub fn mxfp4_experts(&self, prefix: &str, experts: usize, rows: usize, cols: usize) -> Result<Mxfp4Experts<'_>> {
        let groups = cols / mxfp4::format::BLOCK_ELEMS;
        let blocks_shape = [experts, rows, groups, mxfp4::format::BLOCK_BYTES];
        let blocks = self.bytes(&format!("{prefix}_blocks"), Dtype::U8, &blocks_shape)?;
        let scales = self.bytes(&format!("{prefix}_scales"), Dtype::U8, &blocks_shape[..3])?;
        Ok(Mxfp4Experts::new(prefix, blocks, &blocks_shape, scales, &blocks_shape[..3])?)
    }
}

/// Drops `len` bytes of `map` from `offset` out of this process's resident
/// memory. Advice only: where the system refuses, the pages stay.
#[cfg(unix)]
fn advise_dont_need(map: &Mmap, offset: usize, len: usize) {
    // SAFETY: the map is a read-only file mapping, so dropping its pages
    // loses nothing: a later read faults the file's bytes back in. The
    // range lies within the map (inside one tensor's bytes).
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
}

#[cfg(not(unix))]
fn advise_dont_need(_map: &Mmap, _offset: usize, _len: usize) {}

fn bf16_slice<'a>(name: &str, bytes: &'a [u8]) -> std::result::Result<&'a [bf16], mxfp4::FormatError> {
    let len = bytes.len() / 2;
    Bf16Matrix::from_bytes(name, bytes, 1, len).map(|m| m.row(0))
}
