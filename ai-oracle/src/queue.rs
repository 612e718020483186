//! The oracle's persisted work queue (SQLite, every change one transaction): the chain cursor,
//! every record the oracle has seen and where it stands, and the one signed batch in flight.
//!
//! - A block's records are queued with the cursor's advance in one transaction: a crash never
//!   loses a record nor queues one twice.
//! - A record waiting for consent or for its document is retried later, on a bounded policy
//!   (exponential, [`RETRY_BASE_MS`] doubling up to [`RETRY_MAX_MS`], at most
//!   [`MAX_ATTEMPTS`] attempts), then abandoned with its reason.
//! - Nonces are allocated when a batch is signed, in the same transaction that stores the signed
//!   batch as in flight; the block after which it was first submitted is recorded before it is
//!   sent. Before anything else is signed, the batch in flight is settled from the contract's
//!   events after that block, or submitted again exactly as signed (the contract's nonces make a
//!   second copy harmless); one never sent is queued again. So no score is lost or doubled, and
//!   nonces keep rising.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ehr_types::{AccountId, ContentHash, RecordCategory, RecordId};
use rusqlite::{params, Connection, OptionalExtension};

/// First retry delay.
pub const RETRY_BASE_MS: u64 = 2_000;
/// Longest retry delay.
pub const RETRY_MAX_MS: u64 = 3_600_000;
/// Attempts before a record is abandoned (about a week at the longest delay).
pub const MAX_ATTEMPTS: u32 = 180;

/// A record the oracle has to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Whose record.
    pub patient: AccountId,
    /// Its id.
    pub record_id: RecordId,
    /// Its category.
    pub category: RecordCategory,
    /// SHA-256 of its envelope.
    pub content_hash: ContentHash,
    /// Attempts so far.
    pub attempts: u32,
}

/// Where a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its score was accepted on chain.
    Scored,
    /// The contract refused its attestation (kept on chain with its reason).
    Refused,
    /// Not scoreable (erased, not FHIR the model can use); never retried.
    Skipped,
    /// Retried the allowed number of times without consent or document.
    Abandoned,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Scored => "scored",
            Outcome::Refused => "refused",
            Outcome::Skipped => "skipped",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// How many records are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting (new, or for consent or document).
    pub pending: u64,
    /// In the signed batch in flight.
    pub signed: u64,
    /// Scored on chain.
    pub scored: u64,
    /// Refused by the contract.
    pub refused: u64,
    /// Skipped.
    pub skipped: u64,
    /// Abandoned.
    pub abandoned: u64,
}

/// The signed batch in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflight {
    /// The SCALE-encoded `(batch, signature)`.
    pub call: Vec<u8>,
    /// Its records, in the batch's order.
    pub members: Vec<(AccountId, RecordId)>,
    /// The best block when it was first submitted, if it was.
    pub submitted_after: Option<u32>,
}

/// The sealed report of an accepted score, waiting for its upload to the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReport {
    /// Whose score.
    pub patient: AccountId,
    /// The scored record.
    pub record_id: RecordId,
    /// The sealed report.
    pub envelope: Vec<u8>,
    /// Its wrapped keys, encoded.
    pub keys: Vec<u8>,
    /// Uploads tried so far.
    pub attempts: u32,
}

/// The queue.
pub struct Queue {
    db: Connection,
}

fn acc(account: &AccountId) -> &[u8; 32] {
    AsRef::<[u8; 32]>::as_ref(account)
}

fn category_of(index: u8) -> Result<RecordCategory> {
    RecordCategory::ALL.get(usize::from(index)).copied().with_context(|| format!("unknown category {index}"))
}

/// The retry delay after `attempts` attempts.
pub fn retry_delay_ms(attempts: u32) -> u64 {
    RETRY_BASE_MS.saturating_mul(1u64 << attempts.min(20)).min(RETRY_MAX_MS)
}

impl Queue {
    /// Opens (or creates) the queue at `path` for the chain `chain` and the scores contract
    /// `contract`, starting after block `start_block` when new. Refuses a queue of another
    /// deployment.
    pub fn open(path: &Path, chain: &str, contract: &str, start_block: u32) -> Result<Queue> {
        let db = Connection::open(path)
            .with_context(|| format!("opening the oracle's state {}", path.display()))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS meta (
                 chain TEXT NOT NULL, contract TEXT NOT NULL,
                 last_block INTEGER NOT NULL, last_nonce INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS records (
                 patient BLOB NOT NULL, record_id INTEGER NOT NULL, category INTEGER NOT NULL,
                 content_hash BLOB NOT NULL, block INTEGER NOT NULL,
                 state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
                 next_try_ms INTEGER NOT NULL DEFAULT 0, reason TEXT,
                 PRIMARY KEY (patient, record_id));
             CREATE INDEX IF NOT EXISTS records_due ON records (state, next_try_ms);
             CREATE TABLE IF NOT EXISTS inflight (
                 id INTEGER PRIMARY KEY CHECK (id = 1), call BLOB NOT NULL, members BLOB NOT NULL,
                 submitted_after INTEGER);
             CREATE TABLE IF NOT EXISTS reports (
                 patient BLOB NOT NULL, record_id INTEGER NOT NULL, envelope BLOB NOT NULL,
                 keys BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'signed',
                 attempts INTEGER NOT NULL DEFAULT 0, next_try_ms INTEGER NOT NULL DEFAULT 0,
                 reason TEXT, PRIMARY KEY (patient, record_id));",
        )?;
        let meta: Option<(String, String)> = db
            .query_row("SELECT chain, contract FROM meta", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match meta {
            None => {
                db.execute(
                    "INSERT INTO meta (chain, contract, last_block, last_nonce) VALUES (?1, ?2, ?3, 0)",
                    params![chain, contract, start_block],
                )?;
            }
            Some((c, k)) if c != chain || k != contract => bail!(
                "{} belongs to chain {c} / contract {k}, not to this deployment; use another --state file",
                path.display()
            ),
            Some(_) => {}
        }
        Ok(Queue { db })
    }

    /// The last block whose records are queued.
    pub fn last_block(&self) -> Result<u32> {
        Ok(self.db.query_row("SELECT last_block FROM meta", [], |r| r.get(0))?)
    }

    /// The last nonce allocated.
    pub fn last_nonce(&self) -> Result<u64> {
        let nonce: i64 = self.db.query_row("SELECT last_nonce FROM meta", [], |r| r.get(0))?;
        Ok(nonce as u64)
    }

    /// Raises the last nonce to at least `nonce` (the signer's on chain, at start).
    pub fn raise_nonce(&mut self, nonce: u64) -> Result<()> {
        self.db.execute("UPDATE meta SET last_nonce = MAX(last_nonce, ?1)", params![nonce as i64])?;
        Ok(())
    }

    /// Queues block `block`'s records and moves the cursor to it, in one transaction.
    pub fn enqueue_block(&mut self, block: u32, items: &[Item]) -> Result<()> {
        let tx = self.db.transaction()?;
        for item in items {
            tx.execute(
                "INSERT OR IGNORE INTO records (patient, record_id, category, content_hash, block)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    acc(&item.patient).as_slice(),
                    item.record_id,
                    item.category as u8,
                    item.content_hash.as_slice(),
                    block
                ],
            )?;
        }
        tx.execute("UPDATE meta SET last_block = ?1", params![block])?;
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` records due at `now_ms`, oldest first.
    pub fn due(&self, now_ms: u64, limit: u32) -> Result<Vec<Item>> {
        let mut statement = self.db.prepare(
            "SELECT patient, record_id, category, content_hash, attempts FROM records
             WHERE state = 'pending' AND next_try_ms <= ?1 ORDER BY block, record_id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now_ms as i64, limit], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, u8>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get(4)?,
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (patient, record_id, category, hash, attempts) = row?;
            items.push(Item {
                patient: AccountId::from(<[u8; 32]>::try_from(patient.as_slice()).context("patient")?),
                record_id,
                category: category_of(category)?,
                content_hash: <[u8; 32]>::try_from(hash.as_slice()).context("content hash")?,
                attempts,
            });
        }
        Ok(items)
    }

    /// Retries `item` later (no consent yet, document not uploaded yet); abandons it after
    /// [`MAX_ATTEMPTS`]. Returns whether it was abandoned.
    pub fn retry_later(&mut self, item: &Item, now_ms: u64, reason: &str) -> Result<bool> {
        let attempts = item.attempts.saturating_add(1);
        if attempts >= MAX_ATTEMPTS {
            self.finish(item, Outcome::Abandoned, reason)?;
            return Ok(true);
        }
        let next = now_ms.saturating_add(retry_delay_ms(item.attempts));
        self.db.execute(
            "UPDATE records SET attempts = ?3, next_try_ms = ?4, reason = ?5 WHERE patient = ?1 AND record_id = ?2",
            params![acc(&item.patient).as_slice(), item.record_id, attempts, next as i64, reason],
        )?;
        Ok(false)
    }

    /// Ends `item` with `outcome` and `reason`.
    pub fn finish(&mut self, item: &Item, outcome: Outcome, reason: &str) -> Result<()> {
        self.db.execute(
            "UPDATE records SET state = ?3, reason = ?4 WHERE patient = ?1 AND record_id = ?2",
            params![acc(&item.patient).as_slice(), item.record_id, outcome.as_str(), reason],
        )?;
        Ok(())
    }

    /// Allocates `count` nonces: the first one; [`Queue::sign_batch`] stores them.
    pub fn next_nonces(&self, count: usize) -> Result<u64> {
        let first = self.last_nonce()?.checked_add(1).context("nonce space exhausted")?;
        first.checked_add(count as u64).context("nonce space exhausted")?;
        Ok(first)
    }

    /// Stores the signed call (SCALE-encoded batch and signature) as in flight, its members
    /// (patient, record) as signed with their sealed reports (envelope, encoded keys; the
    /// random salt and data key cannot be made again) and its last nonce as allocated, in one
    /// transaction.
    pub fn sign_batch(
        &mut self,
        call: &[u8],
        members: &[(AccountId, RecordId)],
        last_nonce: u64,
        reports: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<()> {
        if reports.len() != members.len() {
            bail!("{} reports for {} signed records", reports.len(), members.len());
        }
        let tx = self.db.transaction()?;
        let mut encoded = Vec::with_capacity(members.len() * 36);
        for ((patient, record_id), (envelope, keys)) in members.iter().zip(reports) {
            tx.execute(
                "INSERT OR REPLACE INTO reports (patient, record_id, envelope, keys) VALUES (?1, ?2, ?3, ?4)",
                params![acc(patient).as_slice(), record_id, envelope, keys],
            )?;
            encoded.extend_from_slice(acc(patient));
            encoded.extend_from_slice(&record_id.to_le_bytes());
            tx.execute(
                "UPDATE records SET state = 'signed' WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id],
            )?;
        }
        tx.execute("INSERT INTO inflight (id, call, members) VALUES (1, ?1, ?2)", params![call, encoded])?;
        tx.execute("UPDATE meta SET last_nonce = MAX(last_nonce, ?1)", params![last_nonce as i64])?;
        tx.commit()?;
        Ok(())
    }

    /// Records that the call in flight is about to be submitted after block `best`: if it
    /// lands and the process dies before settling, its outcome is in the blocks after `best`.
    pub fn submitting(&mut self, best: u32) -> Result<()> {
        self.db.execute(
            "UPDATE inflight SET submitted_after = COALESCE(submitted_after, ?1) WHERE id = 1",
            params![best],
        )?;
        Ok(())
    }

    /// The signed call in flight, its members and the block it was first submitted after, if
    /// any.
    pub fn inflight(&self) -> Result<Option<Inflight>> {
        let row: Option<(Vec<u8>, Vec<u8>, Option<u32>)> = self
            .db
            .query_row("SELECT call, members, submitted_after FROM inflight WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        Ok(row.map(|(call, members, submitted_after)| {
            let members = members
                .chunks_exact(36)
                .map(|m| {
                    let patient = AccountId::from(<[u8; 32]>::try_from(&m[..32]).unwrap_or_default());
                    let id = RecordId::from_le_bytes(<[u8; 4]>::try_from(&m[32..]).unwrap_or_default());
                    (patient, id)
                })
                .collect();
            Inflight { call, members, submitted_after }
        }))
    }

    /// Settles the batch in flight, in one transaction: each settled member's outcome and
    /// reason; the `requeued` members back to pending, due now (to be signed again).
    pub fn settle_batch(
        &mut self,
        outcomes: &[((AccountId, RecordId), Outcome, String)],
        requeued: &[(AccountId, RecordId)],
    ) -> Result<()> {
        let tx = self.db.transaction()?;
        for (patient, record_id) in requeued {
            tx.execute(
                "UPDATE records SET state = 'pending', next_try_ms = 0 WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id],
            )?;
            tx.execute(
                "DELETE FROM reports WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id],
            )?;
        }
        for ((patient, record_id), outcome, reason) in outcomes {
            tx.execute(
                "UPDATE records SET state = ?3, reason = ?4 WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id, outcome.as_str(), reason],
            )?;
            let report = if *outcome == Outcome::Scored {
                "UPDATE reports SET state = 'accepted' WHERE patient = ?1 AND record_id = ?2"
            } else {
                "DELETE FROM reports WHERE patient = ?1 AND record_id = ?2"
            };
            tx.execute(report, params![acc(patient).as_slice(), record_id])?;
        }
        tx.execute("DELETE FROM inflight", [])?;
        tx.commit()?;
        Ok(())
    }

    /// The reports of accepted scores not yet in the vault whose upload is due at `now_ms`.
    pub fn reports_to_upload(&self, now_ms: u64) -> Result<Vec<PendingReport>> {
        let mut statement = self.db.prepare(
            "SELECT patient, record_id, envelope, keys, attempts FROM reports
             WHERE state = 'accepted' AND next_try_ms <= ?1 ORDER BY rowid",
        )?;
        let rows = statement.query_map(params![now_ms as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, u32>(4)?,
            ))
        })?;
        let mut reports = Vec::new();
        for row in rows {
            let (patient, record_id, envelope, keys, attempts) = row?;
            let patient = AccountId::from(<[u8; 32]>::try_from(patient.as_slice()).context("patient")?);
            reports.push(PendingReport { patient, record_id, envelope, keys, attempts });
        }
        Ok(reports)
    }

    /// Tries `report`'s upload again later, on the records' policy; after [`MAX_ATTEMPTS`] it
    /// is kept as abandoned, with `reason` (never deleted: its salt and data key exist nowhere
    /// else). Returns whether it was abandoned.
    pub fn report_retry_later(&mut self, report: &PendingReport, now_ms: u64, reason: &str) -> Result<bool> {
        let attempts = report.attempts.saturating_add(1);
        let abandoned = attempts >= MAX_ATTEMPTS;
        let next = now_ms.saturating_add(retry_delay_ms(report.attempts));
        self.db.execute(
            "UPDATE reports SET attempts = ?3, next_try_ms = ?4, reason = ?5,
                 state = CASE WHEN ?6 THEN 'abandoned' ELSE state END
             WHERE patient = ?1 AND record_id = ?2",
            params![
                acc(&report.patient).as_slice(),
                report.record_id,
                attempts,
                next as i64,
                reason,
                abandoned
            ],
        )?;
        Ok(abandoned)
    }

    /// Forgets the report of `patient`'s record `record_id` (uploaded, or refused for good).
    pub fn report_done(&mut self, patient: &AccountId, record_id: RecordId) -> Result<()> {
        self.db.execute(
            "DELETE FROM reports WHERE patient = ?1 AND record_id = ?2",
            params![acc(patient).as_slice(), record_id],
        )?;
        Ok(())
    }

    /// Queues the members of the batch in flight again after a refusal of the whole batch,
    /// each on the bounded retry policy (abandoned after [`MAX_ATTEMPTS`]), and drops the batch
    /// and its reports, in one transaction.
    pub fn requeue_batch_later(
        &mut self,
        members: &[(AccountId, RecordId)],
        now_ms: u64,
        reason: &str,
    ) -> Result<()> {
        let tx = self.db.transaction()?;
        for (patient, record_id) in members {
            let attempts: u32 = tx.query_row(
                "SELECT attempts FROM records WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id],
                |r| r.get(0),
            )?;
            let state = if attempts.saturating_add(1) >= MAX_ATTEMPTS { "abandoned" } else { "pending" };
            let next = now_ms.saturating_add(retry_delay_ms(attempts));
            tx.execute(
                "UPDATE records SET state = ?3, attempts = ?4, next_try_ms = ?5, reason = ?6
                 WHERE patient = ?1 AND record_id = ?2",
                params![
                    acc(patient).as_slice(),
                    record_id,
                    state,
                    attempts.saturating_add(1),
                    next as i64,
                    reason
                ],
            )?;
            tx.execute(
                "DELETE FROM reports WHERE patient = ?1 AND record_id = ?2",
                params![acc(patient).as_slice(), record_id],
            )?;
        }
        tx.execute("DELETE FROM inflight", [])?;
        tx.commit()?;
        Ok(())
    }

    /// How many records are in each state.
    pub fn counts(&self) -> Result<Counts> {
        let mut counts = Counts::default();
        let mut statement = self.db.prepare("SELECT state, COUNT(*) FROM records GROUP BY state")?;
        let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            let n = n as u64;
            match state.as_str() {
                "pending" => counts.pending = n,
                "signed" => counts.signed = n,
                "scored" => counts.scored = n,
                "refused" => counts.refused = n,
                "skipped" => counts.skipped = n,
                "abandoned" => counts.abandoned = n,
                _ => {}
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u8) -> Item {
        Item {
            patient: AccountId::from([n; 32]),
            record_id: u32::from(n),
            category: RecordCategory::Summary,
            content_hash: [n; 32],
            attempts: 0,
        }
    }

    fn path(name: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("ai-oracle-queue-{name}-{}.sqlite3", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn records_survive_a_restart_and_a_signed_batch_stays_in_flight_until_settled() {
        let path = path("restart");
        {
            let mut q = Queue::open(&path, "0xchain", "5Scores", 3).unwrap();
            assert_eq!(q.last_block().unwrap(), 3);
            q.enqueue_block(4, &[item(1), item(2)]).unwrap();
            q.enqueue_block(5, &[item(1)]).unwrap();
            assert_eq!(q.due(0, 10).unwrap().len(), 2, "queued once");
            let first = q.next_nonces(2).unwrap();
            assert_eq!(first, 1);
            let reports = [(b"envelope 1".to_vec(), b"keys 1".to_vec()), (b"envelope 2".to_vec(), vec![])];
            q.sign_batch(b"signed call", &[(item(1).patient, 1), (item(2).patient, 2)], 2, &reports).unwrap();
        }
        let mut q = Queue::open(&path, "0xchain", "5Scores", 3).unwrap();
        assert_eq!((q.last_block().unwrap(), q.last_nonce().unwrap()), (5, 2));
        let inflight = q.inflight().unwrap().unwrap();
        assert_eq!(inflight.call, b"signed call");
        assert_eq!(inflight.members, vec![(item(1).patient, 1), (item(2).patient, 2)]);
        assert_eq!(inflight.submitted_after, None);
        q.submitting(9).unwrap();
        q.submitting(12).unwrap();
        assert_eq!(q.inflight().unwrap().unwrap().submitted_after, Some(9), "the first submission counts");
        assert!(q.due(0, 10).unwrap().is_empty(), "signed records are not due again");
        q.settle_batch(
            &[
                ((item(1).patient, 1), Outcome::Scored, String::new()),
                ((item(2).patient, 2), Outcome::Refused, "NoConsent".into()),
            ],
            &[],
        )
        .unwrap();
        assert!(q.inflight().unwrap().is_none());
        let counts = q.counts().unwrap();
        assert_eq!((counts.scored, counts.refused, counts.pending), (1, 1, 0));
        let uploads = q.reports_to_upload(0).unwrap();
        assert_eq!(uploads.len(), 1, "only the accepted score's report waits for its upload");
        assert_eq!((uploads[0].record_id, uploads[0].envelope.as_slice()), (1, &b"envelope 1"[..]));
        drop(q);
        let mut q = Queue::open(&path, "0xchain", "5Scores", 3).unwrap();
        assert_eq!(q.reports_to_upload(0).unwrap().len(), 1, "a restart loses no report");
        assert!(!q.report_retry_later(&uploads[0], 1_000, "vault unavailable").unwrap());
        assert!(q.reports_to_upload(1_000).unwrap().is_empty(), "not due before its delay");
        assert_eq!(q.reports_to_upload(1_000 + RETRY_BASE_MS).unwrap()[0].attempts, 1);
        q.report_done(&item(1).patient, 1).unwrap();
        assert!(q.reports_to_upload(u64::MAX / 2).unwrap().is_empty());
        assert!(Queue::open(&path, "0xother", "5Scores", 3).is_err(), "another chain's state is refused");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_batch_never_sent_or_partly_taken_goes_back_to_the_queue() {
        let path = path("requeue");
        let mut q = Queue::open(&path, "0xchain", "5Scores", 0).unwrap();
        q.enqueue_block(1, &[item(3), item(4)]).unwrap();
        let reports = [(vec![3], vec![]), (vec![4], vec![])];
        q.sign_batch(b"call", &[(item(3).patient, 3), (item(4).patient, 4)], 2, &reports).unwrap();
        assert!(q.due(0, 10).unwrap().is_empty());
        q.settle_batch(&[((item(3).patient, 3), Outcome::Scored, String::new())], &[(item(4).patient, 4)])
            .unwrap();
        assert!(q.inflight().unwrap().is_none());
        let due = q.due(0, 10).unwrap();
        assert_eq!(due.iter().map(|i| i.record_id).collect::<Vec<_>>(), vec![4], "only the unsettled one");
        assert_eq!(q.reports_to_upload(0).unwrap().len(), 1, "the requeued record's report is dropped");
        assert_eq!(q.next_nonces(1).unwrap(), 3, "fresh nonces above the batch's");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn waiting_records_are_retried_on_a_bounded_policy() {
        let path = path("retry");
        let mut q = Queue::open(&path, "0xchain", "5Scores", 0).unwrap();
        q.enqueue_block(1, &[item(7)]).unwrap();
        let due = q.due(1_000, 10).unwrap();
        assert!(!q.retry_later(&due[0], 1_000, "no consent").unwrap());
        assert!(q.due(1_000, 10).unwrap().is_empty(), "not due before its delay");
        assert_eq!(q.due(1_000 + RETRY_BASE_MS, 10).unwrap()[0].attempts, 1);
        assert_eq!(retry_delay_ms(1), 2 * RETRY_BASE_MS);
        assert_eq!(retry_delay_ms(40), RETRY_MAX_MS);
        let last = Item { attempts: MAX_ATTEMPTS - 1, ..item(7) };
        assert!(q.retry_later(&last, 5_000, "no consent").unwrap(), "abandoned");
        assert_eq!(q.counts().unwrap().abandoned, 1);
        std::fs::remove_file(&path).unwrap();
    }
}
