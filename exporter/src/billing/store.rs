//! The durable store (redb, an embedded ACID key-value store under `--data-dir`). An
//! acknowledged usage event has been committed with fsync before the answer is sent, so it
//! survives `kill -9`; event ids are unique keys, so a replay is never counted twice; and
//! each account's running total per meter is kept in the same transaction, so a batch that
//! would take it past [`MAX_ACCOUNT_QUANTITY`] is refused whole, never wrapped later.
//! Long: every table and transaction of the store in one place, so the durability rules are read together.

use super::credits::Credit;
pub use super::handle::StoreError;
use super::handle::{Handle, META};
use super::rating::MAX_ACCOUNT_QUANTITY;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const IDS: TableDefinition<&str, u64> = TableDefinition::new("event_ids");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("event_log");
/// Aggregated (visible) usage per account and meter.
const AGG: TableDefinition<&str, u64> = TableDefinition::new("usage_totals");
/// Accepted usage per account and meter, aggregated or not: the bound is checked on it.
const INGESTED: TableDefinition<&str, u64> = TableDefinition::new("ingested_totals");
const WEBHOOKS: TableDefinition<&str, u64> = TableDefinition::new("webhook_ids");
const INVOICES: TableDefinition<&str, &[u8]> = TableDefinition::new("invoices");
/// SLA credits by `Credit::key`: the credit and, once applied, the invoice it went on.
const CREDITS: TableDefinition<&str, &[u8]> = TableDefinition::new("sla_credits");

/// The layout this build reads and writes. Version 1 (float quantities) is refused.
const SCHEMA: u64 = 2;

#[derive(Clone, Debug, thiserror::Error)]
pub enum IngestError {
    /// Accepting event `index` of the batch would take the account's total for the meter
    /// past [`MAX_ACCOUNT_QUANTITY`].
    #[error("event {index}: account `{account}` would hold more than {MAX_ACCOUNT_QUANTITY} units of `{meter}` (it holds {held})")]
    AccountLimit {
        index: usize,
        account: String,
        meter: String,
        held: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: Into<redb::Error>> From<E> for IngestError {
    fn from(e: E) -> Self {
        IngestError::Store(StoreError::from(e))
    }
}

/// One batch's answer: (accepted, duplicates), or why it was refused.
pub type BatchResult = Result<(u64, u64), IngestError>;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub account: String,
    pub meter: String,
    /// Whole units of the meter.
    pub quantity: u64,
    /// When the usage happened: unix seconds.
    pub timestamp: i64,
    /// Unix time we acknowledged it.
    pub received: f64,
}

pub struct Store {
    handle: Handle,
}

fn total_key(account: &str, meter: &str) -> String {
    format!("{account}\u{0}{meter}")
}

fn decode(bytes: &[u8]) -> Result<Event, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::json)
}

impl Store {
    /// Commits, unless the injected full-disk fault is on; an I/O failure takes the store
    /// down (see [`Handle`]).
    fn commit(&self, txn: WriteTransaction) -> Result<(), StoreError> {
        self.watch(
            self.handle
                .check_fault()
                .and_then(|()| txn.commit().map_err(StoreError::from)),
        )
    }

    fn watch<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &r {
            self.handle.failed(e);
        }
        r
    }

    /// Why the store cannot commit now, if it cannot.
    pub fn down(&self) -> Option<super::handle::Down> {
        self.handle.down()
    }

    /// The faults it consults (`store.enospc`: commits fail as on a full disk).
    pub fn attach_faults(&self, faults: std::sync::Arc<super::faults::Faults>) {
        let _ = self.handle.faults.set(faults);
    }

    /// Reopens the store after a failed commit, on the calling thread, until `stop`.
    pub fn recover_forever(&self, stop: &std::sync::atomic::AtomicBool) {
        self.handle
            .recover_forever(std::time::Duration::from_millis(500), stop);
    }

    /// Opens (or creates) the store with a page cache of `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::from_message(&format!("{}: {e}", dir.display())))?;
        let path = dir.join("billing.redb");
        let handle = Handle::open(path.clone(), cache_bytes)?;
        let db = handle.get()?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let schema = meta.get("schema")?.map(|v| v.value());
            let has_events = txn.open_table(LOG)?.len()? > 0;
            match schema {
                Some(SCHEMA) => {}
                None if !has_events => {
                    meta.insert("schema", SCHEMA)?;
                }
                found => {
                    return Err(StoreError::from_message(&format!(
                        "{} holds data in layout {} (this build reads {SCHEMA}: whole-unit quantities); keep it for the old build and start this one with a new --data-dir",
                        path.display(),
                        found.unwrap_or(1),
                    )));
                }
            }
            txn.open_table(IDS)?;
            txn.open_table(AGG)?;
            txn.open_table(INGESTED)?;
            txn.open_table(WEBHOOKS)?;
            txn.open_table(INVOICES)?;
            txn.open_table(CREDITS)?;
        }
        txn.commit()?;
        drop(db);
        Ok(Store { handle })
    }

    /// Stores the events not seen before, in one durable transaction. Returns
    /// (accepted, duplicates); a repeated id (also within the batch) is a duplicate. When
    /// any event would take its account past the bound, nothing is stored.
    pub fn ingest(&self, events: &[Event]) -> Result<(u64, u64), IngestError> {
        self.ingest_group(&[events])
            .pop()
            .expect("one result per batch")
    }

    /// Group commit: stores several batches in one durable transaction (one fsync), each
    /// batch still all-or-nothing: a batch that would take an account past the bound is
    /// refused whole and the others are kept. One result per batch, in order; when the
    /// commit itself fails, every batch gets the error and nothing is stored.
    pub fn ingest_group(&self, batches: &[&[Event]]) -> Vec<BatchResult> {
        match self.watch(self.ingest_group_txn(batches)) {
            Ok(results) => results,
            Err(e) => batches.iter().map(|_| Err(e.clone().into())).collect(),
        }
    }

    fn ingest_group_txn(&self, batches: &[&[Event]]) -> Result<Vec<BatchResult>, StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        let mut results = Vec::with_capacity(batches.len());
        {
            let mut ids = txn.open_table(IDS)?;
            let mut log = txn.open_table(LOG)?;
            let mut meta = txn.open_table(META)?;
            let mut totals = txn.open_table(INGESTED)?;
            let mut seq = meta.get("next_seq")?.map(|v| v.value()).unwrap_or(0);
            // Running totals of the accounts the group touches: read once, written once.
            let mut held: BTreeMap<String, u64> = BTreeMap::new();
            for events in batches {
                // Checked first against the totals so far, written only when the whole
                // batch fits: a refused batch leaves nothing in the transaction.
                let mut fresh: Vec<&Event> = Vec::with_capacity(events.len());
                let mut seen: std::collections::HashSet<&str> = Default::default();
                let mut batch_held: BTreeMap<String, u64> = BTreeMap::new();
                let mut refused = None;
                for (index, e) in events.iter().enumerate() {
                    if !seen.insert(e.id.as_str()) || ids.get(e.id.as_str())?.is_some() {
                        continue;
                    }
                    let key = total_key(&e.account, &e.meter);
                    let total = match batch_held.get_mut(&key) {
                        Some(t) => t,
                        None => {
                            let before = match held.get(&key) {
                                Some(t) => *t,
                                None => totals.get(key.as_str())?.map(|v| v.value()).unwrap_or(0),
                            };
                            batch_held.entry(key).or_insert(before)
                        }
                    };
                    match total
                        .checked_add(e.quantity)
                        .filter(|t| *t <= MAX_ACCOUNT_QUANTITY)
                    {
                        Some(t) => *total = t,
                        None => {
                            refused = Some(IngestError::AccountLimit {
                                index,
                                account: e.account.clone(),
                                meter: e.meter.clone(),
                                held: *total,
                            });
                            break;
                        }
                    }
                    fresh.push(e);
                }
                if let Some(refusal) = refused {
                    results.push(Err(refusal));
                    continue;
                }
                for e in &fresh {
                    ids.insert(e.id.as_str(), seq)?;
                    let bytes = serde_json::to_vec(e).map_err(StoreError::json)?;
                    log.insert(seq, bytes.as_slice())?;
                    seq += 1;
                }
                held.extend(batch_held);
                let accepted = fresh.len() as u64;
                results.push(Ok((accepted, events.len() as u64 - accepted)));
            }
            for (key, total) in &held {
                totals.insert(key.as_str(), *total)?;
            }
            meta.insert("next_seq", seq)?;
        }
        self.commit(txn)?;
        Ok(results)
    }

    /// Folds at most `max` events not yet aggregated into per-account, per-meter totals,
    /// in one transaction. Returns the number of events folded.
    pub fn aggregate(&self, max: u64) -> Result<u64, StoreError> {
        self.watch(self.aggregate_txn(max))
    }

    fn aggregate_txn(&self, max: u64) -> Result<u64, StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        let mut n = 0;
        {
            let log = txn.open_table(LOG)?;
            let mut meta = txn.open_table(META)?;
            let mut agg = txn.open_table(AGG)?;
            let cursor = meta.get("agg_cursor")?.map(|v| v.value()).unwrap_or(0);
            let mut next = cursor;
            let mut sums: BTreeMap<String, u64> = BTreeMap::new();
            for item in log.range(cursor..)? {
                if n >= max {
                    break;
                }
                let (k, v) = item?;
                let e = decode(v.value())?;
                let sum = sums.entry(total_key(&e.account, &e.meter)).or_default();
                // Bounded by the ingested total, which ingest keeps under the bound.
                *sum = sum.saturating_add(e.quantity);
                next = k.value() + 1;
                n += 1;
            }
            for (key, add) in sums {
                let old = agg.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
                let new = old.checked_add(add).ok_or_else(|| {
                    StoreError::from_message(&format!("usage total of {key:?} overflows"))
                })?;
                agg.insert(key.as_str(), new)?;
            }
            meta.insert("agg_cursor", next)?;
        }
        self.commit(txn)?;
        Ok(n)
    }

    /// When the oldest event still waiting for aggregation was received, if any.
    pub fn oldest_pending(&self) -> Result<Option<f64>, StoreError> {
        let txn = self.handle.read()?.begin_read()?;
        let meta = txn.open_table(META)?;
        let cursor = meta.get("agg_cursor")?.map(|v| v.value()).unwrap_or(0);
        let log = txn.open_table(LOG)?;
        let first = log.range(cursor..)?.next();
        match first {
            Some(item) => Ok(Some(decode(item?.1.value())?.received)),
            None => Ok(None),
        }
    }

    /// Aggregated usage of one account, by meter.
    pub fn usage(&self, account: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let txn = self.handle.read()?.begin_read()?;
        let agg = txn.open_table(AGG)?;
        let prefix = format!("{account}\u{0}");
        let mut out = BTreeMap::new();
        for item in agg.range(prefix.as_str()..)? {
            let (k, v) = item?;
            let Some(meter) = k.value().strip_prefix(prefix.as_str()) else {
                break;
            };
            out.insert(meter.to_string(), v.value());
        }
        Ok(out)
    }

    /// Records a webhook event id; false when it was seen before.
    pub fn record_webhook(&self, key: &str) -> Result<bool, StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        let new = {
            let mut t = txn.open_table(WEBHOOKS)?;
            let seen = t.get(key)?.is_some();
            if !seen {
                t.insert(key, 1)?;
            }
            !seen
        };
        self.commit(txn)?;
        Ok(new)
    }

    pub fn store_invoice(&self, key: &str, invoice: &serde_json::Value) -> Result<(), StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        {
            let mut t = txn.open_table(INVOICES)?;
            let bytes = serde_json::to_vec(invoice).map_err(StoreError::json)?;
            t.insert(key, bytes.as_slice())?;
        }
        self.commit(txn)?;
        Ok(())
    }

    /// Records credits not seen before (by key), in one transaction. Returns (added, already).
    pub fn add_credits(&self, credits: &[Credit]) -> Result<(u64, u64), StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        let (mut added, mut already) = (0, 0);
        {
            let mut t = txn.open_table(CREDITS)?;
            for c in credits {
                let key = c.key();
                if t.get(key.as_str())?.is_some() {
                    already += 1;
                    continue;
                }
                let entry = serde_json::json!({"credit": c, "applied_to": null});
                let bytes = serde_json::to_vec(&entry).map_err(StoreError::json)?;
                t.insert(key.as_str(), bytes.as_slice())?;
                added += 1;
            }
        }
        self.commit(txn)?;
        Ok((added, already))
    }

    /// The credits for the account's invoice `invoice`: those on no invoice yet, and those
    /// already on this one (an invoice run rewrites its period's invoice, keeping them).
    pub fn credits_for_invoice(
        &self,
        account: &str,
        invoice: &str,
    ) -> Result<Vec<Credit>, StoreError> {
        let mut out = Vec::new();
        for bytes in self.account_values(CREDITS, account)? {
            let entry: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(StoreError::json)?;
            if entry["applied_to"].is_null() || entry["applied_to"] == invoice {
                let c: Credit =
                    serde_json::from_value(entry["credit"].clone()).map_err(StoreError::json)?;
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Stores an invoice and marks the credits on it applied, in one transaction, so a
    /// credit is on exactly one invoice.
    pub fn store_invoice_with_credits(
        &self,
        key: &str,
        invoice: &serde_json::Value,
        credits: &[Credit],
    ) -> Result<(), StoreError> {
        let txn = self.handle.get()?.begin_write()?;
        {
            let mut t = txn.open_table(INVOICES)?;
            let bytes = serde_json::to_vec(invoice).map_err(StoreError::json)?;
            t.insert(key, bytes.as_slice())?;
            let mut c = txn.open_table(CREDITS)?;
            for credit in credits {
                let entry = serde_json::json!({"credit": credit, "applied_to": key});
                let bytes = serde_json::to_vec(&entry).map_err(StoreError::json)?;
                c.insert(credit.key().as_str(), bytes.as_slice())?;
            }
        }
        self.commit(txn)?;
        Ok(())
    }

    /// The account's invoices, oldest period first.
    pub fn invoices(&self, account: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.account_values(INVOICES, account)?
            .iter()
            .map(|bytes| serde_json::from_slice(bytes).map_err(StoreError::json))
            .collect()
    }

    /// The values of `table` keyed `<account>/...`, in key order.
    fn account_values(
        &self,
        table: TableDefinition<&str, &[u8]>,
        account: &str,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.handle.read()?.begin_read()?;
        let t = txn.open_table(table)?;
        let prefix = format!("{account}/");
        let mut out = Vec::new();
        for row in t.range(prefix.as_str()..)? {
            let (k, v) = row?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            out.push(v.value().to_vec());
        }
        Ok(out)
    }

    pub fn event_count(&self) -> Result<u64, StoreError> {
        let txn = self.handle.read()?.begin_read()?;
        Ok(txn.open_table(IDS)?.len()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CACHE: usize = 4 << 20;

    fn ev(id: &str, q: u64) -> Event {
        Event {
            id: id.into(),
            account: "acme".into(),
            meter: "egress_bytes".into(),
            quantity: q,
            timestamp: 0,
            received: 1.0,
        }
    }

    #[test]
    fn idempotent_ingest_and_aggregation() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), CACHE).unwrap();
        assert_eq!(
            s.ingest(&[ev("a", 1), ev("b", 2), ev("a", 5)]).unwrap(),
            (2, 1)
        );
        assert_eq!(s.ingest(&[ev("b", 2), ev("c", 4)]).unwrap(), (1, 1));
        assert_eq!(s.oldest_pending().unwrap(), Some(1.0));
        assert_eq!(s.aggregate(2).unwrap(), 2, "bounded work per transaction");
        assert_eq!(s.aggregate(1000).unwrap(), 1);
        assert_eq!(s.aggregate(1000).unwrap(), 0);
        assert_eq!(s.oldest_pending().unwrap(), None);
        assert_eq!(s.usage("acme").unwrap()["egress_bytes"], 7);
        assert!(s.usage("acm").unwrap().is_empty());
        drop(s);
        let s = Store::open(dir.path(), CACHE).unwrap();
        assert_eq!(s.event_count().unwrap(), 3);
        assert!(s.record_webhook("stripe/evt_1").unwrap());
        assert!(!s.record_webhook("stripe/evt_1").unwrap());
    }

    #[test]
    fn a_batch_past_the_account_bound_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), CACHE).unwrap();
        assert_eq!(
            s.ingest(&[ev("a", MAX_ACCOUNT_QUANTITY - 1)]).unwrap(),
            (1, 0)
        );
        let err = s.ingest(&[ev("b", 1), ev("c", 1)]).unwrap_err();
        assert!(
            matches!(err, IngestError::AccountLimit { index: 1, held, .. } if held == MAX_ACCOUNT_QUANTITY),
            "{err}"
        );
        // Nothing of the refused batch was stored: `b` is still new.
        assert_eq!(s.ingest(&[ev("b", 1)]).unwrap(), (1, 0));
        assert!(matches!(
            s.ingest(&[ev("d", u64::MAX)]).unwrap_err(),
            IngestError::AccountLimit { index: 0, .. }
        ));
        s.aggregate(10).unwrap();
        assert_eq!(
            s.usage("acme").unwrap()["egress_bytes"],
            MAX_ACCOUNT_QUANTITY
        );
    }

    #[test]
    fn a_group_commit_keeps_each_batch_whole_and_its_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), CACHE).unwrap();
        s.ingest(&[ev("seed", MAX_ACCOUNT_QUANTITY - 10)]).unwrap();
        let first = [ev("a", 4), ev("seed", 1)];
        // Fits alone (4 + 7 > 10 only together with the first batch): refused whole.
        let second = [ev("b", 1), ev("c", 6)];
        // Sees the first batch's `a` as a duplicate, and its total.
        let third = [ev("a", 4), ev("d", 6)];
        let results = s.ingest_group(&[&first, &second, &third]);
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().unwrap(), &(1, 1));
        assert!(
            matches!(&results[1], Err(IngestError::AccountLimit { index: 1, held, .. }) if *held == MAX_ACCOUNT_QUANTITY - 5),
            "{:?}",
            results[1]
        );
        assert_eq!(results[2].as_ref().unwrap(), &(1, 1));
        // Nothing of the refused batch was stored; the others were, once.
        assert_eq!(s.ingest(&[ev("b", 0), ev("c", 0)]).unwrap(), (2, 0));
        s.aggregate(100).unwrap();
        assert_eq!(
            s.usage("acme").unwrap()["egress_bytes"],
            MAX_ACCOUNT_QUANTITY
        );
    }
}
