//! Where the vault keeps things: envelopes as blobs behind `object_store`'s one trait (the local
//! filesystem by default; any S3-compatible service for deployments that outgrow one machine),
//! and the index — which envelope belongs to which patient, each reader's wrapped key, erasure
//! tombstones — in SQLite, every change one transaction.
//!
//! The vault never holds a secret: envelopes are ciphertext, wrapped keys open only with their
//! recipients' X25519 secret keys.

use std::{path::Path, sync::Arc};

use ehr_envelope::{Envelope, PublicKey, WrappedKey, WRAPPED_KEY_LEN};
use ehr_types::AccountId;
use object_store::{local::LocalFileSystem, path::Path as BlobPath, ObjectStore, PutPayload};
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::Mutex;

/// What went wrong in the store, with what it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No envelope with this hash for this patient.
    #[error("no record 0x{hash} of this patient in the vault")]
    NotFound {
        /// The content hash, hex.
        hash: String,
    },
    /// The patient erased the record: its envelope and keys are gone for good.
    #[error("record 0x{hash} was erased by the patient")]
    Erased {
        /// The content hash, hex.
        hash: String,
    },
    /// Another envelope is stored under this hash (cannot happen for honest SHA-256 input).
    #[error("record 0x{hash} is already stored with other content")]
    Conflict {
        /// The content hash, hex.
        hash: String,
    },
    /// The index database failed.
    #[error("vault index: {0}")]
    Index(#[from] rusqlite::Error),
    /// The blob store failed.
    #[error("vault blob store: {0}")]
    Blobs(#[from] object_store::Error),
}

/// An envelope's index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Whose record.
    pub patient: AccountId,
    /// SHA-256 of the envelope (the on-chain content hash).
    pub content_hash: [u8; 32],
    /// Who uploaded it (the patient, or a provider with a write grant).
    pub author: AccountId,
    /// Envelope size in bytes.
    pub size: u64,
}

/// The vault's store: blobs and index.
pub struct Store {
    blobs: Arc<dyn ObjectStore>,
    index: Mutex<Connection>,
}

fn acc(account: &AccountId) -> &[u8; 32] {
    AsRef::<[u8; 32]>::as_ref(account)
}

fn blob_path(patient: &AccountId, hash: &[u8; 32]) -> BlobPath {
    BlobPath::from(format!("envelopes/{}/{}", hex::encode(acc(patient)), hex::encode(hash)))
}

impl Store {
    /// The embedded default: envelopes under `dir/blobs`, the index in `dir/index.sqlite3`.
    pub fn open_local(dir: &Path) -> Result<Store, StoreError> {
        let blobs = dir.join("blobs");
        std::fs::create_dir_all(&blobs)
            .map_err(|e| object_store::Error::Generic { store: "local", source: Box::new(e) })?;
        let blobs = LocalFileSystem::new_with_prefix(&blobs)?;
        Store::open(Arc::new(blobs), &dir.join("index.sqlite3"))
    }

    /// Envelopes in the S3-compatible bucket `url` (`s3://BUCKET`), the index at `dir/index.sqlite3`.
    /// Credentials, region and endpoint come from the `AWS_*` environment
    /// (`object_store::aws::AmazonS3Builder::from_env`): `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`.
    pub fn open_s3(url: &str, dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| object_store::Error::Generic { store: "S3", source: Box::new(e) })?;
        let blobs = object_store::aws::AmazonS3Builder::from_env().with_url(url).build()?;
        Store::open(Arc::new(blobs), &dir.join("index.sqlite3"))
    }

    /// A store over any `object_store` backend (S3-compatible, local, in-memory) and the index
    /// database at `index`.
    pub fn open(blobs: Arc<dyn ObjectStore>, index: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(index)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS envelopes (
                 patient BLOB NOT NULL, content_hash BLOB NOT NULL, author BLOB NOT NULL,
                 size INTEGER NOT NULL, erased INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (patient, content_hash));
             CREATE TABLE IF NOT EXISTS wrapped_keys (
                 patient BLOB NOT NULL, content_hash BLOB NOT NULL, recipient BLOB NOT NULL,
                 public_key BLOB NOT NULL, wrapped BLOB NOT NULL,
                 PRIMARY KEY (patient, content_hash, recipient));
             CREATE INDEX IF NOT EXISTS wrapped_keys_by_recipient ON wrapped_keys (patient, recipient);
             CREATE TABLE IF NOT EXISTS seen_requests (
                 account BLOB NOT NULL, nonce BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,
                 PRIMARY KEY (account, nonce));
             CREATE INDEX IF NOT EXISTS seen_requests_by_time ON seen_requests (timestamp_ms);",
        )?;
        Ok(Store { blobs, index: Mutex::new(db) })
    }

    /// Stores `envelope` of `patient` uploaded by `author` with its wrapped keys (recipient
    /// account → key). Storing the same envelope again only adds keys; an erased record stays
    /// erased.
    pub async fn put(
        &self,
        patient: &AccountId,
        author: &AccountId,
        envelope: &Envelope,
        keys: &[(AccountId, WrappedKey)],
    ) -> Result<Entry, StoreError> {
        let hash = envelope.content_hash();
        let entry = Entry {
            patient: *patient,
            content_hash: hash,
            author: *author,
            size: envelope.as_bytes().len() as u64,
        };
        if let Some(existing) = self.entry(patient, &hash).await? {
            if existing.size != entry.size {
                return Err(StoreError::Conflict { hash: hex::encode(hash) });
            }
        } else {
            // The blob first: an index entry never points at a missing blob.
            self.blobs
                .put(&blob_path(patient, &hash), PutPayload::from(envelope.as_bytes().to_vec()))
                .await?;
        }
        let mut db = self.index.lock().await;
        let tx = db.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO envelopes (patient, content_hash, author, size) VALUES (?1, ?2, ?3, ?4)",
            params![acc(patient).as_slice(), hash.as_slice(), acc(author).as_slice(), entry.size as i64],
        )?;
        for (recipient, key) in keys {
            upsert_key(&tx, patient, &hash, recipient, key)?;
        }
        tx.commit()?;
        Ok(entry)
    }

    /// The index entry of `patient`'s record `hash`: `None` if unknown, `Erased` if erased.
    pub async fn entry(&self, patient: &AccountId, hash: &[u8; 32]) -> Result<Option<Entry>, StoreError> {
        let db = self.index.lock().await;
        let row: Option<(Vec<u8>, i64, bool)> = db
            .query_row(
                "SELECT author, size, erased FROM envelopes WHERE patient = ?1 AND content_hash = ?2",
                params![acc(patient).as_slice(), hash.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((_, _, true)) => Err(StoreError::Erased { hash: hex::encode(hash) }),
            Some((author, size, false)) => Ok(Some(Entry {
                patient: *patient,
                content_hash: *hash,
                author: AccountId::from(<[u8; 32]>::try_from(author.as_slice()).unwrap_or_default()),
                size: size as u64,
            })),
        }
    }

    /// The envelope of `patient`'s record `hash` and `recipient`'s wrapped key for it, if any.
    pub async fn get(
        &self,
        patient: &AccountId,
        hash: &[u8; 32],
        recipient: &AccountId,
    ) -> Result<(Vec<u8>, Option<WrappedKey>), StoreError> {
        if self.entry(patient, hash).await?.is_none() {
            return Err(StoreError::NotFound { hash: hex::encode(hash) });
        }
        let key = {
            let db = self.index.lock().await;
            db.query_row(
                "SELECT public_key, wrapped FROM wrapped_keys WHERE patient = ?1 AND content_hash = ?2 AND recipient = ?3",
                params![acc(patient).as_slice(), hash.as_slice(), acc(recipient).as_slice()],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()?
        };
        let key = key.and_then(|(public, wrapped)| {
            let public = PublicKey(public.try_into().ok()?);
            WrappedKey::from_bytes(public, &wrapped).ok()
        });
        let bytes = self.blobs.get(&blob_path(patient, hash)).await?.bytes().await?;
        Ok((bytes.to_vec(), key))
    }

    /// Adds or replaces `recipient`'s wrapped key for `patient`'s record `hash` (a new reader,
    /// or a rotated key).
    pub async fn set_key(
        &self,
        patient: &AccountId,
        hash: &[u8; 32],
        recipient: &AccountId,
        key: &WrappedKey,
    ) -> Result<(), StoreError> {
        if self.entry(patient, hash).await?.is_none() {
            return Err(StoreError::NotFound { hash: hex::encode(hash) });
        }
        let mut db = self.index.lock().await;
        let tx = db.transaction()?;
        upsert_key(&tx, patient, hash, recipient, key)?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes every wrapped key of `recipient` for `patient`'s records (a revocation); returns
    /// how many.
    pub async fn remove_recipient(
        &self,
        patient: &AccountId,
        recipient: &AccountId,
    ) -> Result<usize, StoreError> {
        let db = self.index.lock().await;
        Ok(db.execute(
            "DELETE FROM wrapped_keys WHERE patient = ?1 AND recipient = ?2",
            params![acc(patient).as_slice(), acc(recipient).as_slice()],
        )?)
    }

    /// Crypto-shredding: destroys the envelope and every wrapped key of `patient`'s record
    /// `hash` and keeps a tombstone, so later reads answer `Erased`.
    pub async fn erase(&self, patient: &AccountId, hash: &[u8; 32]) -> Result<(), StoreError> {
        if self.entry(patient, hash).await?.is_none() {
            return Err(StoreError::NotFound { hash: hex::encode(hash) });
        }
        {
            let mut db = self.index.lock().await;
            let tx = db.transaction()?;
            tx.execute(
                "DELETE FROM wrapped_keys WHERE patient = ?1 AND content_hash = ?2",
                params![acc(patient).as_slice(), hash.as_slice()],
            )?;
            tx.execute(
                "UPDATE envelopes SET erased = 1 WHERE patient = ?1 AND content_hash = ?2",
                params![acc(patient).as_slice(), hash.as_slice()],
            )?;
            tx.commit()?;
        }
        match self.blobs.delete(&blob_path(patient, hash)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Records the first use of a signed request's `(account, nonce)`; `false` if it was seen
    /// before. Pairs of requests timestamped before `forget_before_ms` are forgotten (such a
    /// request is refused as stale anyway).
    pub async fn first_use(
        &self,
        account: &AccountId,
        nonce: &[u8; 16],
        timestamp_ms: u64,
        forget_before_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut db = self.index.lock().await;
        let tx = db.transaction()?;
        tx.execute("DELETE FROM seen_requests WHERE timestamp_ms < ?1", params![forget_before_ms as i64])?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO seen_requests (account, nonce, timestamp_ms) VALUES (?1, ?2, ?3)",
            params![acc(account).as_slice(), nonce.as_slice(), timestamp_ms as i64],
        )?;
        tx.commit()?;
        Ok(inserted == 1)
    }

    /// How many wrapped keys the vault holds for `patient`'s record `hash`.
    pub async fn key_count(&self, patient: &AccountId, hash: &[u8; 32]) -> Result<usize, StoreError> {
        let db = self.index.lock().await;
        let count: i64 = db.query_row(
            "SELECT COUNT(*) FROM wrapped_keys WHERE patient = ?1 AND content_hash = ?2",
            params![acc(patient).as_slice(), hash.as_slice()],
            |r| r.get(0),
        )?;
        Ok(count as usize)
    }
}

fn upsert_key(
    tx: &rusqlite::Transaction<'_>,
    patient: &AccountId,
    hash: &[u8; 32],
    recipient: &AccountId,
    key: &WrappedKey,
) -> Result<(), StoreError> {
    debug_assert_eq!(key.as_bytes().len(), WRAPPED_KEY_LEN);
    tx.execute(
        "INSERT OR REPLACE INTO wrapped_keys (patient, content_hash, recipient, public_key, wrapped)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            acc(patient).as_slice(),
            hash.as_slice(),
            acc(recipient).as_slice(),
            key.recipient.0.as_slice(),
            key.as_bytes().as_slice()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ehr_envelope::KeyPair;

    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ehr-vault-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn envelopes_and_keys_survive_a_restart_and_erasure_shreds_them() {
        let dir = dir("restart");
        let (patient, doctor) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
        let (patient_keys, doctor_keys) = (KeyPair::generate(), KeyPair::generate());
        let (envelope, wrapped) =
            Envelope::seal_for(b"lab panel", acc(&patient), &[patient_keys.public(), doctor_keys.public()])
                .unwrap();
        let hash = envelope.content_hash();
        {
            let store = Store::open_local(&dir).unwrap();
            let keys = vec![(patient, wrapped[0].clone())];
            store.put(&patient, &patient, &envelope, &keys).await.unwrap();
            store.set_key(&patient, &hash, &doctor, &wrapped[1]).await.unwrap();
        }
        // Reopened: nothing lost.
        let store = Store::open_local(&dir).unwrap();
        let (bytes, key) = store.get(&patient, &hash, &doctor).await.unwrap();
        let stored = Envelope::from_bytes(bytes).unwrap();
        assert_eq!(stored.open_with(&key.unwrap(), &doctor_keys, acc(&patient)).unwrap(), b"lab panel");
        assert_eq!(store.key_count(&patient, &hash).await.unwrap(), 2);
        // Revoked: the doctor's key is gone, the patient's stays.
        assert_eq!(store.remove_recipient(&patient, &doctor).await.unwrap(), 1);
        assert!(store.get(&patient, &hash, &doctor).await.unwrap().1.is_none());
        // Erased: no envelope, no key, and it stays erased.
        store.erase(&patient, &hash).await.unwrap();
        assert!(matches!(store.get(&patient, &hash, &patient).await, Err(StoreError::Erased { .. })));
        assert_eq!(store.key_count(&patient, &hash).await.unwrap(), 0);
        assert!(!std::fs::read_dir(dir.join("blobs"))
            .unwrap()
            .any(|e| { walk(&e.unwrap().path()).iter().any(|p| p.ends_with(hex::encode(hash))) }));
        assert!(matches!(
            store.put(&patient, &patient, &envelope, &[]).await,
            Err(StoreError::Erased { .. })
        ));
        assert!(matches!(store.get(&patient, &hash, &patient).await, Err(StoreError::Erased { .. })));
        let unknown = [9; 32];
        assert!(matches!(store.get(&patient, &unknown, &patient).await, Err(StoreError::NotFound { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_nonce_is_accepted_once_even_across_a_restart() {
        let dir = dir("nonces");
        let (alice, bob) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
        let now = 1_764_000_000_000;
        {
            let store = Store::open_local(&dir).unwrap();
            assert!(store.first_use(&alice, &[7; 16], now, now - 120_000).await.unwrap());
            assert!(!store.first_use(&alice, &[7; 16], now, now - 120_000).await.unwrap());
            assert!(store.first_use(&bob, &[7; 16], now, now - 120_000).await.unwrap(), "another account");
        }
        let store = Store::open_local(&dir).unwrap();
        assert!(!store.first_use(&alice, &[7; 16], now, now - 120_000).await.unwrap(), "restarted");
        // Long after the window the pair is forgotten (the request is stale by then anyway).
        let later = now + 600_000;
        assert!(store.first_use(&alice, &[7; 16], later, later - 120_000).await.unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn walk(path: &Path) -> Vec<std::path::PathBuf> {
        if path.is_dir() {
            std::fs::read_dir(path).unwrap().flat_map(|e| walk(&e.unwrap().path())).collect()
        } else {
            vec![path.to_path_buf()]
        }
    }
}
