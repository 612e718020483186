//! Oracle keys and signed attestations.
//!
//! The oracle signs batches of [`ScoreAttestation`]s with ed25519 (one signature per batch, over
//! [`AttestationBatch::signing_message`], the exact bytes the `risk_scores` contract verifies).
//! Keys live in a key file created with mode 0600; the secret is never printed unless asked.

use std::{fs, io::Write, path::Path};

use ed25519_dalek::{Signer, SigningKey};
use ehr_types::{
    scores::{AttestationBatch, ScoreAttestation, Signature, SignerKey},
    AccountId, ContentHash,
};
use sha2::{Digest, Sha256};

use crate::{model::RiskModel, report::Report};

/// Key-file problems, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists and `--force` was not given.
    #[error("key file {0} already exists; refusing to overwrite it")]
    Exists(String),
    /// The file does not hold a key.
    #[error("key file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Others can read the file.
    #[error("key file {0} is readable by group or others; run `chmod 600 {0}`")]
    Permissions(String),
}

/// An oracle signing key.
pub struct OracleKey(SigningKey);

impl OracleKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)?;
        Ok(OracleKey(SigningKey::from_bytes(&seed)))
    }

    /// A key from its 32-byte secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        OracleKey(SigningKey::from_bytes(&seed))
    }

    /// The public key, as registered in the `risk_scores` contract.
    pub fn public(&self) -> SignerKey {
        self.0.verifying_key().to_bytes()
    }

    /// The secret seed, hex-encoded. Handle with care.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// Writes the key file (`ed25519 secret seed` as hex, one line) with mode 0600.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<(), KeyError> {
        let name = path.display().to_string();
        if path.exists() && !overwrite {
            return Err(KeyError::Exists(name));
        }
        let io = |source| KeyError::Io { path: name.clone(), source };
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        writeln!(file, "{}", self.secret_hex()).map_err(io)
    }

    /// Reads a key file, refusing one that group or others can read.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let name = path.display().to_string();
        let io = |source| KeyError::Io { path: name.clone(), source };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions(name));
            }
        }
        let text = fs::read_to_string(path).map_err(io)?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| KeyError::Invalid { path: name.clone(), reason: "not hex" })?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Invalid { path: name, reason: "not a 32-byte ed25519 seed" })?;
        Ok(Self::from_seed(seed))
    }

    /// Signs a batch: one signature over its signing message.
    pub fn sign(&self, batch: &AttestationBatch) -> Signature {
        self.0.sign(&batch.signing_message()).to_bytes()
    }

    /// Signs a batch of audit alerts: one signature over its signing message.
    pub fn sign_alerts(&self, batch: &ehr_types::alerts::AlertBatch) -> Signature {
        self.0.sign(&batch.signing_message()).to_bytes()
    }
}

/// SHA-256 of the exact document a score was computed from (the record's anchored hash).
pub fn input_hash(document: &[u8]) -> ContentHash {
    Sha256::digest(document).into()
}

/// The attestation of a score for `patient`'s document hashing to `input_hash`, whose
/// `report` is sealed in the envelope hashing to `report_hash`.
pub fn attestation(
    model: &dyn RiskModel,
    report: &Report,
    patient: AccountId,
    input_hash: ContentHash,
    report_hash: ContentHash,
    computed_at_ms: u64,
    nonce: u64,
) -> ScoreAttestation {
    ScoreAttestation {
        patient,
        model_hash: model.model_hash(),
        input_hash,
        commitment: report.commitment(),
        report_hash,
        computed_at: computed_at_ms,
        nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Verifier, VerifyingKey};

    #[test]
    fn key_file_round_trips_with_private_permissions() {
        let dir = std::env::temp_dir().join(format!("oracle-key-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("oracle.key");
        let _ = fs::remove_file(&path);
        let key = OracleKey::generate().unwrap();
        key.save(&path, false).unwrap();
        assert!(matches!(key.save(&path, false), Err(KeyError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(OracleKey::load(&path), Err(KeyError::Permissions(_))));
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(OracleKey::load(&path).unwrap().public(), key.public());
        fs::write(&path, "zz\n").unwrap();
        assert!(matches!(OracleKey::load(&path), Err(KeyError::Invalid { reason: "not hex", .. })));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn signature_covers_the_whole_batch() {
        let key = OracleKey::from_seed([1; 32]);
        let attestation = ScoreAttestation {
            patient: AccountId::from([2; 32]),
            model_hash: [3; 32],
            input_hash: [4; 32],
            commitment: [8; 32],
            report_hash: [9; 32],
            computed_at: 1,
            nonce: 1,
        };
        let batch = AttestationBatch {
            contract: AccountId::from([5; 32]),
            chain: [6; 32],
            signer: key.public(),
            attestations: vec![attestation],
        };
        let signature = ed25519_dalek::Signature::from_bytes(&key.sign(&batch));
        let verifying = VerifyingKey::from_bytes(&key.public()).unwrap();
        assert!(verifying.verify(&batch.signing_message(), &signature).is_ok());
        let mut other = batch.clone();
        other.chain = [7; 32];
        assert!(verifying.verify(&other.signing_message(), &signature).is_err());
    }
}
