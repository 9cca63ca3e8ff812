//! Group commit for usage ingestion: one writer thread takes every batch that arrived while
//! the previous transaction was syncing and commits them together, so one fsync
//! acknowledges them all. Each batch keeps its own answer (accepted, duplicates, or its
//! refusal); nothing is acknowledged before the transaction holding it is durable.

use super::store::{BatchResult, Event, IngestError, Store, StoreError};
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;

/// At most this many batches share one transaction, so one commit stays bounded.
const MAX_GROUP: usize = 256;

type Reply = oneshot::Sender<BatchResult>;

/// How acknowledged batches reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batches waiting while a commit syncs share the next commit (the default).
    Group,
    /// One transaction and fsync per batch (the behaviour before group commit, kept to
    /// measure against).
    PerBatch,
}

/// The ingest path into the store: a handle to the writer thread.
pub struct Committer {
    tx: mpsc::Sender<(Vec<Event>, Reply)>,
}

impl Committer {
    /// Starts the writer thread; it ends when the committer is dropped.
    pub fn start(store: Arc<Store>, mode: Mode) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<(Vec<Event>, Reply)>();
        std::thread::Builder::new()
            .name("ingest-commit".into())
            .spawn(move || {
                let limit = match mode {
                    Mode::Group => MAX_GROUP,
                    Mode::PerBatch => 1,
                };
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < limit {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let batches: Vec<&[Event]> = jobs.iter().map(|(e, _)| e.as_slice()).collect();
                    let results = store.ingest_group(&batches);
                    for ((_, reply), result) in jobs.into_iter().zip(results) {
                        // A client that went away still had its batch stored.
                        let _ = reply.send(result);
                    }
                }
            })?;
        Ok(Committer { tx })
    }

    /// Stores a batch durably; returns (accepted, duplicates) once it is on disk.
    pub async fn ingest(&self, events: Vec<Event>) -> Result<(u64, u64), IngestError> {
        let (reply, answer) = oneshot::channel();
        let gone = || IngestError::Store(StoreError::from_message("the ingest writer stopped"));
        self.tx.send((events, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}
