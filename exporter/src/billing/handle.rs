//! The store's database handle, whether it can commit, and the store's error type. redb
//! refuses every write after one failed I/O ("Previous I/O error occurred") until the database is opened again, so a
//! full disk would keep ingest down after space returns. Here the first I/O failure marks
//! the store down (readiness and ingest answer 503 without trying) and a recovery thread
//! drops the handle, opens the file again and proves a commit before marking it up.

use super::faults::{Fault, Faults};
use redb::{Database, TableDefinition};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The store's own bookkeeping (schema version, last reopen): the table a reopen proves a
/// commit on.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// What went wrong in the store: whether the disk failed (reopen), the store is known down
/// (nothing tried), or anything else.
#[derive(Clone, Debug, thiserror::Error)]
#[error("store: {message}")]
pub struct StoreError {
    message: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Other,
    /// The disk failed a read or write (full, gone): the store must be reopened.
    Io,
    /// Known to be down: nothing was attempted.
    Down,
}

impl StoreError {
    pub fn from_message(message: &str) -> Self {
        StoreError {
            message: message.to_string(),
            kind: Kind::Other,
        }
    }
    pub(super) fn io(message: &str) -> Self {
        StoreError {
            message: message.to_string(),
            kind: Kind::Io,
        }
    }
    pub(super) fn down(reason: &str) -> Self {
        StoreError {
            message: format!("cannot commit ({reason})"),
            kind: Kind::Down,
        }
    }
    /// A stored value that does not encode or decode.
    pub(super) fn json(e: serde_json::Error) -> Self {
        Self::from_message(&e.to_string())
    }
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }
    /// The store cannot commit now (a failed I/O, or known down so nothing was tried):
    /// a retry once it recovers may succeed.
    pub fn is_down(&self) -> bool {
        self.kind != Kind::Other
    }
}

impl<E: Into<redb::Error>> From<E> for StoreError {
    fn from(e: E) -> Self {
        let e = e.into();
        let kind = match e {
            redb::Error::Io(_) | redb::Error::PreviousIo => Kind::Io,
            _ => Kind::Other,
        };
        StoreError {
            message: e.to_string(),
            kind,
        }
    }
}

/// Why the store cannot commit, and since when.
#[derive(Clone, Debug)]
pub struct Down {
    pub reason: String,
    pub since: Instant,
}

pub struct Handle {
    path: PathBuf,
    cache_bytes: usize,
    db: RwLock<Option<Arc<Database>>>,
    down: Mutex<Option<Down>>,
    changed: Condvar,
    /// The injected faults; `store.enospc` fails commits as a full disk does.
    pub faults: std::sync::OnceLock<Arc<Faults>>,
}

/// What a full disk answers, so the injected fault reads like the real one.
pub const ENOSPC: &str = "No space left on device (os error 28)";

impl Handle {
    pub fn open(path: PathBuf, cache_bytes: usize) -> Result<Self, StoreError> {
        let db = create(&path, cache_bytes)?;
        Ok(Handle {
            path,
            cache_bytes,
            db: RwLock::new(Some(Arc::new(db))),
            down: Mutex::new(None),
            changed: Condvar::new(),
            faults: std::sync::OnceLock::new(),
        })
    }

    /// The database, or why it cannot be used now.
    pub fn get(&self) -> Result<Arc<Database>, StoreError> {
        if let Some(d) = self.down() {
            return Err(StoreError::down(&d.reason));
        }
        self.read()
    }

    /// The database for reading: reads go on while commits cannot.
    pub fn read(&self) -> Result<Arc<Database>, StoreError> {
        self.db
            .read()
            .expect("store handle lock")
            .clone()
            .ok_or_else(|| StoreError::down("the store is being reopened"))
    }

    /// Why the store cannot commit, while it cannot.
    pub fn down(&self) -> Option<Down> {
        self.down.lock().expect("store health lock").clone()
    }

    /// Called with every error of a write: an I/O failure takes the store down until the
    /// recovery thread has reopened it.
    pub fn failed(&self, e: &StoreError) {
        if !e.is_io() {
            return;
        }
        let mut down = self.down.lock().expect("store health lock");
        if down.is_none() {
            tracing::error!(error = %e, "store: a commit failed; ingest refused until the store can commit again");
            *down = Some(Down {
                reason: e.to_string(),
                since: Instant::now(),
            });
            self.changed.notify_all();
        }
    }

    /// Fails like a full disk while the fault is on.
    pub fn check_fault(&self) -> Result<(), StoreError> {
        if self
            .faults
            .get()
            .is_some_and(|f| f.stalled(Fault::StoreEnospc))
        {
            return Err(StoreError::io(ENOSPC));
        }
        Ok(())
    }

    /// Blocks until the store is down, then reopens it every `every` until a probe commit
    /// succeeds; returns when `stop` is set. Run on its own thread.
    pub fn recover_forever(&self, every: Duration, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            {
                let down = self.down.lock().expect("store health lock");
                let (down, _) = self
                    .changed
                    .wait_timeout_while(down, every, |d| d.is_none())
                    .expect("store health lock");
                if down.is_none() {
                    continue;
                }
            }
            match self.reopen() {
                Ok(()) => {
                    let was = self.down.lock().expect("store health lock").take();
                    let secs = was.map_or(0.0, |d| d.since.elapsed().as_secs_f64());
                    tracing::info!(down_seconds = secs, "store: reopened and committing again");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "store: still cannot commit; retrying");
                    std::thread::park_timeout(every);
                }
            }
        }
    }

    /// Drops the handle (redb opens a file once), opens it again and proves a commit.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self.db.write().expect("store handle lock");
        slot.take();
        let db = create(&self.path, self.cache_bytes)?;
        self.check_fault()?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert("reopened", now_seconds())?;
        }
        txn.commit()?;
        *slot = Some(Arc::new(db));
        Ok(())
    }
}

fn create(path: &std::path::Path, cache_bytes: usize) -> Result<Database, StoreError> {
    Ok(Database::builder()
        .set_cache_size(cache_bytes)
        .create(path)?)
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
