//! The durable store (redb, an embedded ACID key-value store under `--data-dir`). An
//! acknowledged usage event has been committed with fsync before the answer is sent, so it
//! survives `kill -9`; event ids are unique keys, so a replay is never counted twice.

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const IDS: TableDefinition<&str, u64> = TableDefinition::new("event_ids");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("event_log");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const AGG: TableDefinition<&str, f64> = TableDefinition::new("usage_aggregates");
const WEBHOOKS: TableDefinition<&str, u64> = TableDefinition::new("webhook_ids");
const INVOICES: TableDefinition<&str, &[u8]> = TableDefinition::new("invoices");

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(String);

impl<E: Into<redb::Error>> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError(e.into().to_string())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub account: String,
    pub meter: String,
    pub quantity: f64,
    pub timestamp: serde_json::Value,
    /// Unix time we acknowledged it.
    pub received: f64,
}

pub struct Store {
    db: Database,
}

fn agg_key(account: &str, meter: &str) -> String {
    format!("{account}\u{0}{meter}")
}

impl Store {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        let db = Database::create(dir.join("billing.redb"))?;
        let txn = db.begin_write()?;
        {
            txn.open_table(IDS)?;
            txn.open_table(LOG)?;
            txn.open_table(META)?;
            txn.open_table(AGG)?;
            txn.open_table(WEBHOOKS)?;
            txn.open_table(INVOICES)?;
        }
        txn.commit()?;
        Ok(Store { db })
    }

    /// Stores the events not seen before, in one durable transaction. Returns
    /// (accepted, duplicates); a repeated id (also within the batch) is a duplicate.
    pub fn ingest(&self, events: &[Event]) -> Result<(u64, u64), StoreError> {
        let txn = self.db.begin_write()?;
        let (mut accepted, mut duplicates) = (0, 0);
        {
            let mut ids = txn.open_table(IDS)?;
            let mut log = txn.open_table(LOG)?;
            let mut meta = txn.open_table(META)?;
            let mut seq = meta.get("next_seq")?.map(|v| v.value()).unwrap_or(0);
            for e in events {
                if ids.get(e.id.as_str())?.is_some() {
                    duplicates += 1;
                    continue;
                }
                ids.insert(e.id.as_str(), seq)?;
                let bytes = serde_json::to_vec(e).map_err(|e| StoreError(e.to_string()))?;
                log.insert(seq, bytes.as_slice())?;
                seq += 1;
                accepted += 1;
            }
            meta.insert("next_seq", seq)?;
        }
        txn.commit()?;
        Ok((accepted, duplicates))
    }

    /// Folds events not yet aggregated into per-account, per-meter totals. Returns the
    /// number of events folded.
    pub fn aggregate(&self, max: u64) -> Result<u64, StoreError> {
        let txn = self.db.begin_write()?;
        let mut n = 0;
        {
            let log = txn.open_table(LOG)?;
            let mut meta = txn.open_table(META)?;
            let mut agg = txn.open_table(AGG)?;
            let cursor = meta.get("agg_cursor")?.map(|v| v.value()).unwrap_or(0);
            let mut next = cursor;
            let mut sums: BTreeMap<String, f64> = BTreeMap::new();
            for item in log.range(cursor..)? {
                let (k, v) = item?;
                if n >= max {
                    break;
                }
                let e: Event =
                    serde_json::from_slice(v.value()).map_err(|e| StoreError(e.to_string()))?;
                *sums.entry(agg_key(&e.account, &e.meter)).or_default() += e.quantity;
                next = k.value() + 1;
                n += 1;
            }
            for (key, add) in sums {
                let old = agg.get(key.as_str())?.map(|v| v.value()).unwrap_or(0.0);
                agg.insert(key.as_str(), old + add)?;
            }
            meta.insert("agg_cursor", next)?;
        }
        txn.commit()?;
        Ok(n)
    }

    /// When the oldest event still waiting for aggregation was received, if any.
    pub fn oldest_pending(&self) -> Result<Option<f64>, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let cursor = meta.get("agg_cursor")?.map(|v| v.value()).unwrap_or(0);
        let log = txn.open_table(LOG)?;
        let first = log.range(cursor..)?.next();
        match first {
            Some(item) => {
                let (_, v) = item?;
                let e: Event =
                    serde_json::from_slice(v.value()).map_err(|e| StoreError(e.to_string()))?;
                Ok(Some(e.received))
            }
            None => Ok(None),
        }
    }

    /// Aggregated usage of one account, by meter.
    pub fn usage(&self, account: &str) -> Result<BTreeMap<String, f64>, StoreError> {
        let txn = self.db.begin_read()?;
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
        let txn = self.db.begin_write()?;
        let new = {
            let mut t = txn.open_table(WEBHOOKS)?;
            let seen = t.get(key)?.is_some();
            if !seen {
                t.insert(key, 1)?;
            }
            !seen
        };
        txn.commit()?;
        Ok(new)
    }

    pub fn store_invoice(&self, key: &str, invoice: &serde_json::Value) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(INVOICES)?;
            let bytes = serde_json::to_vec(invoice).map_err(|e| StoreError(e.to_string()))?;
            t.insert(key, bytes.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    pub fn event_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(IDS)?.len()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, q: f64) -> Event {
        Event {
            id: id.into(),
            account: "acme".into(),
            meter: "egress_bytes".into(),
            quantity: q,
            timestamp: serde_json::json!(0),
            received: 1.0,
        }
    }

    #[test]
    fn idempotent_ingest_and_aggregation() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            s.ingest(&[ev("a", 1.0), ev("b", 2.0), ev("a", 5.0)])
                .unwrap(),
            (2, 1)
        );
        assert_eq!(s.ingest(&[ev("b", 2.0), ev("c", 4.0)]).unwrap(), (1, 1));
        assert_eq!(s.oldest_pending().unwrap(), Some(1.0));
        assert_eq!(s.aggregate(1000).unwrap(), 3);
        assert_eq!(s.aggregate(1000).unwrap(), 0);
        assert_eq!(s.oldest_pending().unwrap(), None);
        assert_eq!(s.usage("acme").unwrap()["egress_bytes"], 7.0);
        assert!(s.usage("acm").unwrap().is_empty());
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.event_count().unwrap(), 3);
        assert!(s.record_webhook("stripe/evt_1").unwrap());
        assert!(!s.record_webhook("stripe/evt_1").unwrap());
    }
}
