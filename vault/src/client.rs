//! A typed client of the vault's HTTP API for the patient's and the providers' tools: every
//! request signed with the caller's chain account ([`crate::auth::sign`]), every refusal an
//! [`VaultError::Refused`] carrying the vault's status and reason.

use ehr_client::{ss58, Keypair};
use ehr_envelope::{Envelope, PublicKey, WrappedKey};
use ehr_types::AccountId;
use reqwest::Method;

use crate::{
    auth,
    server::{now_ms, Fetched, KeyJson, Upload},
};

/// Why a vault call failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The vault answered with a refusal: its HTTP status and reason.
    #[error("the vault refused ({status}): {reason}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The vault's reason.
        reason: String,
    },
    /// The vault could not be reached.
    #[error("cannot reach the vault at {url}: {source}")]
    Unreachable {
        /// The vault's base URL.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The vault's answer does not parse.
    #[error("the vault's answer is malformed: {0}")]
    Malformed(String),
}

impl VaultError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            VaultError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The vault at a base URL (`http://127.0.0.1:8470`).
#[derive(Debug, Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    base: String,
}

/// The API path of `patient`'s record with envelope hash `hash`.
pub fn record_path(patient: &AccountId, hash: &[u8; 32]) -> String {
    format!("/v1/records/{}/0x{}", ss58(patient), hex::encode(hash))
}

fn key_json(recipient: Option<&AccountId>, key: &WrappedKey) -> KeyJson {
    KeyJson {
        recipient: recipient.map(ss58),
        public_key: key.recipient.to_string(),
        wrapped: format!("0x{}", hex::encode(key.as_bytes())),
    }
}

fn unhex(text: &str, what: &str) -> Result<Vec<u8>, VaultError> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| VaultError::Malformed(format!("{what} is not hex: {e}")))
}

impl VaultClient {
    /// A client of the vault at `base`.
    pub fn new(base: &str) -> Self {
        VaultClient { http: reqwest::Client::new(), base: base.trim_end_matches('/').to_string() }
    }

    /// The vault's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Sends one request signed by `signer`; returns the body of a 2xx answer.
    async fn send(
        &self,
        signer: &Keypair,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, VaultError> {
        let headers = auth::sign(signer, method.as_str(), path, &body, now_ms());
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json").body(body);
        }
        let unreachable = |source| VaultError::Unreachable { url: self.base.clone(), source };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        Err(VaultError::Refused { status: status.as_u16(), reason })
    }

    /// Stores `envelope` of `patient` with its wrapped keys (recipient → key). The caller must
    /// have anchored it on chain (`add_record`).
    pub async fn upload(
        &self,
        signer: &Keypair,
        patient: &AccountId,
        envelope: &Envelope,
        keys: &[(AccountId, WrappedKey)],
    ) -> Result<(), VaultError> {
        let upload = Upload {
            envelope: format!("0x{}", hex::encode(envelope.as_bytes())),
            keys: keys.iter().map(|(recipient, key)| key_json(Some(recipient), key)).collect(),
        };
        let body = serde_json::to_vec(&upload).map_err(|e| VaultError::Malformed(e.to_string()))?;
        self.send(signer, Method::PUT, &record_path(patient, &envelope.content_hash()), body).await?;
        Ok(())
    }

    /// Fetches `patient`'s envelope `hash` and the caller's wrapped key for it, checking that
    /// the envelope is the one anchored (its SHA-256 is `hash`).
    pub async fn fetch(
        &self,
        signer: &Keypair,
        patient: &AccountId,
        hash: &[u8; 32],
    ) -> Result<(Envelope, WrappedKey), VaultError> {
        let body = self.send(signer, Method::GET, &record_path(patient, hash), Vec::new()).await?;
        let fetched: Fetched =
            serde_json::from_slice(&body).map_err(|e| VaultError::Malformed(e.to_string()))?;
        let envelope = Envelope::from_bytes(unhex(&fetched.envelope, "envelope")?)
            .map_err(|e| VaultError::Malformed(e.to_string()))?;
        if envelope.content_hash() != *hash {
            return Err(VaultError::Malformed(format!(
                "the envelope's SHA-256 is 0x{}, not the anchored 0x{}: it was altered",
                hex::encode(envelope.content_hash()),
                hex::encode(hash)
            )));
        }
        let public =
            PublicKey::from_hex(&fetched.key.public_key).map_err(|e| VaultError::Malformed(e.to_string()))?;
        let key = WrappedKey::from_bytes(public, &unhex(&fetched.key.wrapped, "wrapped key")?)
            .map_err(|e| VaultError::Malformed(e.to_string()))?;
        Ok((envelope, key))
    }

    /// Adds `recipient`'s wrapped key for `patient`'s record `hash` (the patient, after a grant).
    pub async fn share(
        &self,
        signer: &Keypair,
        patient: &AccountId,
        hash: &[u8; 32],
        recipient: &AccountId,
        key: &WrappedKey,
    ) -> Result<(), VaultError> {
        let path = format!("{}/keys/{}", record_path(patient, hash), ss58(recipient));
        let body =
            serde_json::to_vec(&key_json(None, key)).map_err(|e| VaultError::Malformed(e.to_string()))?;
        self.send(signer, Method::PUT, &path, body).await?;
        Ok(())
    }

    /// Deletes every wrapped key of `recipient` for `patient`'s records; returns how many.
    pub async fn revoke(
        &self,
        signer: &Keypair,
        patient: &AccountId,
        recipient: &AccountId,
    ) -> Result<u64, VaultError> {
        let path = format!("/v1/records/{}/keys/{}", ss58(patient), ss58(recipient));
        let body = self.send(signer, Method::DELETE, &path, Vec::new()).await?;
        let answer: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| VaultError::Malformed(e.to_string()))?;
        answer["removed"].as_u64().ok_or_else(|| VaultError::Malformed("no `removed` count".into()))
    }

    /// Crypto-shredding: destroys `patient`'s envelope `hash` and every wrapped key.
    pub async fn erase(
        &self,
        signer: &Keypair,
        patient: &AccountId,
        hash: &[u8; 32],
    ) -> Result<(), VaultError> {
        self.send(signer, Method::DELETE, &record_path(patient, hash), Vec::new()).await?;
        Ok(())
    }
}
