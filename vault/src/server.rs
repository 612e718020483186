//! The vault's HTTP service (axum): every request signed ([`crate::auth`]), every release
//! decided on-chain ([`crate::release`]), everything kept in the [`crate::store`].
//!
//! | route | who | what |
//! |---|---|---|
//! | `PUT /v1/records/{patient}/{hash}` | the record's on-chain author | stores the envelope whose SHA-256 is `hash` and its wrapped keys; the record must be anchored first (`add_record`) by the caller; each key's recipient must be the patient or hold a read grant for the record's category, and the key must be wrapped for the recipient's published encryption key |
//! | `GET /v1/records/{patient}/{hash}` | the patient, or a reader with consent now and an audited request | the envelope and the caller's wrapped key; under emergency access, see below |
//! | `PUT /v1/records/{patient}/{hash}/keys/{recipient}` | the patient | adds a reader's wrapped key (after a grant), same checks as upload |
//! | `DELETE /v1/records/{patient}/keys/{recipient}` | the patient | deletes every key of a revoked reader |
//! | `DELETE /v1/records/{patient}/{hash}` | the patient | crypto-shredding: envelope and keys destroyed; later reads `410 Gone` |
//! | `GET /health` | anyone | `ok` |
//!
//! Bodies are JSON; binary values are `0x`-hex. A refusal is a JSON `{"error": "..."}` with the
//! reason, and is logged (`tracing`) with the route, the caller and the status.
//!
//! **Emergency (break-glass) access.** A patient may opt in (`set_emergency_opt_in`) to having
//! their records also wrapped for the institution's emergency X25519 key, which the governance
//! publishes on chain (`emergency_key`); such a key is stored under the records contract's
//! account as its recipient, and only for an opted-in patient. A vault started with that key's
//! secret (`--emergency-key`) releases, to a Doctor without a key of its own whose granted,
//! audited request was taken under its open emergency access (`emergency = true` in the
//! event), the record's data key unwrapped with the emergency key and wrapped again for the
//! Doctor's published encryption key, while the patient is still opted in. Nothing is released
//! from the emergency key otherwise.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::{Context, Result};
use axum::{
    body::Bytes,
    extract::{FromRequest, Path, Request, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{delete, get, put},
    Json, Router,
};
use ehr_client::{parse_account, ss58, ContractRef, Node};
use ehr_envelope::{Envelope, PublicKey, WrappedKey};
use ehr_types::{AccessDecision, AccessMode, AccountId, Record, RecordCategory, RecordsError};
use serde::{Deserialize, Serialize};

use crate::{
    auth::{self, AuthError, Authenticated},
    release::{Release, ReleaseRule},
    store::{Store, StoreError},
};

/// How the vault runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The node's URL.
    pub node: String,
    /// The deployment file (`ai-oracle deploy` writes it).
    pub deployment: PathBuf,
    /// Folder of the contracts' `.contract` bundles.
    pub artifacts: PathBuf,
    /// Folder of the index (and of the envelopes, unless `blobs` names an S3 bucket).
    pub data: PathBuf,
    /// Where envelopes go: `None` for `data/blobs` on the local filesystem, or an
    /// `s3://bucket` URL (credentials, region and endpoint from the `AWS_*` environment).
    pub blobs: Option<String>,
    /// Blocks within which a reader's granted request must be.
    pub audit_window: u32,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted clock skew of a signed request, in ms.
    pub max_skew_ms: u64,
    /// The institution's emergency X25519 key file, if this vault re-wraps records for Doctors
    /// under emergency access.
    pub emergency_key: Option<PathBuf>,
}

struct Vault {
    node: Arc<Node>,
    records: ContractRef,
    registry: ContractRef,
    rule: ReleaseRule,
    store: Store,
    max_skew_ms: u64,
    emergency: Option<ehr_envelope::KeyPair>,
}

/// A wrapped key in a request or response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyJson {
    /// The recipient's account (SS58 or 0x-hex); ignored in responses' and key routes' bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The X25519 public key it is wrapped for, 0x-hex.
    pub public_key: String,
    /// The wrapped data key, 0x-hex (112 bytes).
    pub wrapped: String,
}

/// The upload body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    /// The envelope, 0x-hex.
    pub envelope: String,
    /// Wrapped keys, one per recipient.
    pub keys: Vec<KeyJson>,
}

/// The fetch response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fetched {
    /// The envelope, 0x-hex.
    pub envelope: String,
    /// The caller's wrapped key.
    pub key: KeyJson,
}

/// A refusal: HTTP status and reason.
#[derive(Debug)]
pub struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn refuse(status: StatusCode, reason: impl ToString) -> Refused {
    Refused(status, reason.to_string())
}

fn internal(err: impl std::fmt::Display) -> Refused {
    refuse(StatusCode::BAD_GATEWAY, format!("the vault could not complete the request: {err}"))
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], Refused> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, format!("{what} {text:?} is not 32 bytes of hex")))
}

fn unhex(text: &str, what: &str) -> Result<Vec<u8>, Refused> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("{what} is not hex: {e}")))
}

fn account(text: &str, what: &str) -> Result<AccountId, Refused> {
    parse_account(text).map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("{what}: {e:#}")))
}

fn store_refusal(err: StoreError) -> Refused {
    match err {
        StoreError::NotFound { .. } => refuse(StatusCode::NOT_FOUND, err),
        StoreError::Erased { .. } => refuse(StatusCode::GONE, err),
        StoreError::Conflict { .. } => refuse(StatusCode::CONFLICT, err),
        other => internal(other),
    }
}

impl Vault {
    fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Authenticated, Refused> {
        let now = now_ms();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        auth::verify(header, method.as_str(), path, body, now, self.max_skew_ms)
            .map_err(|e| refuse(StatusCode::UNAUTHORIZED, e))
    }

    /// Refuses a second use of the request's (account, nonce) within twice the skew window;
    /// the store keeps the pairs, so a restart forgets none.
    async fn check_replay(&self, request: &Authenticated) -> Result<(), Refused> {
        let forget_before = now_ms().saturating_sub(self.max_skew_ms.saturating_mul(2));
        let first = self
            .store
            .first_use(&request.account, &request.nonce, request.timestamp_ms, forget_before)
            .await
            .map_err(internal)?;
        if first {
            Ok(())
        } else {
            Err(refuse(StatusCode::UNAUTHORIZED, AuthError::Replayed))
        }
    }

    /// The anchored record of `patient` with envelope hash `hash`, read at the best block.
    async fn anchored(&self, patient: &AccountId, hash: &[u8; 32]) -> Result<Record, Refused> {
        let id: Option<u32> = self
            .node
            .dry_run(&self.records, patient, "anchored_record", &(*patient, *hash))
            .await
            .map_err(internal)?
            .value;
        let Some(id) = id else {
            return Err(refuse(
                StatusCode::CONFLICT,
                format!(
                    "0x{} is not anchored for this patient: anchor it with add_record first",
                    hex::encode(hash)
                ),
            ));
        };
        let record: Result<Record, RecordsError> = self
            .node
            .dry_run(&self.records, patient, "record", &(*patient, id))
            .await
            .map_err(internal)?
            .value;
        let record = record.map_err(|e| internal(format!("reading record {id}: {e:?}")))?;
        if let Some(block) = record.erased_at {
            // Erased on chain: whatever the vault still holds of it is destroyed now.
            match self.store.erase(patient, hash).await {
                Ok(()) | Err(StoreError::NotFound { .. } | StoreError::Erased { .. }) => {}
                Err(err) => return Err(internal(err)),
            }
            return Err(refuse(
                StatusCode::GONE,
                format!("record {id} was erased by the patient on chain (block {block}): its envelope and keys are destroyed"),
            ));
        }
        Ok(record)
    }

    /// Checks a wrapped key for `recipient` of `patient`'s `category` record: the recipient is
    /// the patient or may read the category now, and the key is wrapped for its published key.
    async fn check_recipient(
        &self,
        patient: &AccountId,
        recipient: &AccountId,
        category: RecordCategory,
        key: &WrappedKey,
    ) -> Result<(), Refused> {
        let published = if recipient == patient {
            self.node.encryption_key(&self.records, recipient).await.map_err(internal)?
        } else if *recipient == self.records.address {
            // The institution's emergency key, for a patient who opted in.
            if !self.opted_in(patient).await? {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    "the patient has not opted in to the emergency key (set_emergency_opt_in): no key is kept for it",
                ));
            }
            let key: Option<[u8; 32]> = self
                .node
                .dry_run(&self.records, patient, "emergency_key", &())
                .await
                .map_err(internal)?
                .value;
            key
        } else {
            let decision = self
                .node
                .access_decision(&self.records, patient, recipient, category, AccessMode::Read)
                .await
                .map_err(internal)?;
            if let AccessDecision::Denied(reason) = decision {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    format!("{} may not read this patient's {category:?} records ({reason:?}): no key is kept for it", ss58(recipient)),
                ));
            }
            self.node.encryption_key(&self.registry, recipient).await.map_err(internal)?
        };
        match published {
            Some(published) if published == key.recipient.0 => Ok(()),
            Some(_) => Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("the key for {} is not wrapped for its published encryption key", ss58(recipient)),
            )),
            None => Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("{} has published no encryption key (set_encryption_key)", ss58(recipient)),
            )),
        }
    }
}

impl Vault {
    /// Whether `patient` is opted in to the emergency key now.
    async fn opted_in(&self, patient: &AccountId) -> Result<bool, Refused> {
        Ok(self
            .node
            .dry_run(&self.records, patient, "emergency_opt_in", &(*patient,))
            .await
            .map_err(internal)?
            .value)
    }

    /// The data key of `patient`'s record `hash`, unwrapped with the emergency key and wrapped
    /// for `caller`'s published encryption key: only for an emergency release, while the
    /// caller's emergency case on the patient is still open, a patient opted in, and a vault
    /// holding the emergency key the record was wrapped for.
    async fn emergency_key_for(
        &self,
        caller: &AccountId,
        patient: &AccountId,
        hash: &[u8; 32],
    ) -> Result<WrappedKey, Refused> {
        let no_key = |why: &str| {
            refuse(StatusCode::FORBIDDEN, format!("no data key is wrapped for the caller, and {why}"))
        };
        let emergency = self.emergency.as_ref().ok_or_else(|| no_key("this vault holds no emergency key"))?;
        let open: Option<u32> = self
            .node
            .dry_run(&self.records, caller, "open_emergency_of", &(*patient, *caller))
            .await
            .map_err(internal)?
            .value;
        if open.is_none() {
            return Err(no_key("the caller's emergency access to this patient has ended"));
        }
        if !self.opted_in(patient).await? {
            return Err(no_key("the patient has not opted in to the emergency key"));
        }
        let (_, stored) =
            self.store.get(patient, hash, &self.records.address).await.map_err(store_refusal)?;
        let stored = stored.ok_or_else(|| no_key("the record is not wrapped for the emergency key"))?;
        if stored.recipient != emergency.public() {
            return Err(no_key(
                "the record is wrapped for another emergency key than this vault holds (rotated?)",
            ));
        }
        let data_key = stored.unwrap(emergency, hash).map_err(|e| {
            internal(format!("the emergency key does not open record 0x{}: {e}", hex::encode(hash)))
        })?;
        let reader = self
            .node
            .encryption_key(&self.registry, caller)
            .await
            .map_err(internal)?
            .ok_or_else(|| no_key("the caller has published no encryption key (set_encryption_key)"))?;
        data_key.wrap_for(&PublicKey(reader), hash).map_err(internal)
    }
}

/// A request whose signature verified and whose nonce is fresh: its caller and its body. Every
/// route takes it, so no route can forget authentication or the replay check.
struct Signed {
    caller: Authenticated,
    body: Bytes,
}

impl FromRequest<Arc<Vault>> for Signed {
    type Rejection = Response;

    async fn from_request(request: Request, vault: &Arc<Vault>) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        let body = Bytes::from_request(Request::from_parts(parts, body), vault)
            .await
            .map_err(IntoResponse::into_response)?;
        let caller =
            vault.authenticate(&method, &uri, &headers, &body).map_err(IntoResponse::into_response)?;
        vault.check_replay(&caller).await.map_err(IntoResponse::into_response)?;
        Ok(Signed { caller, body })
    }
}

fn parse_key(key: &KeyJson) -> Result<WrappedKey, Refused> {
    let public = PublicKey(hex32(&key.public_key, "public_key")?);
    WrappedKey::from_bytes(public, &unhex(&key.wrapped, "wrapped")?)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e))
}

async fn upload(
    State(vault): State<Arc<Vault>>,
    Path((patient, hash)): Path<(String, String)>,
    Signed { caller, body }: Signed,
) -> Result<StatusCode, Refused> {
    let (patient, hash) = (account(&patient, "patient")?, hex32(&hash, "record hash")?);
    let upload: Upload =
        serde_json::from_slice(&body).map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("body: {e}")))?;
    let envelope = Envelope::from_bytes(unhex(&upload.envelope, "envelope")?)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
    if envelope.content_hash() != hash {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "the envelope's SHA-256 is 0x{}, not the path's hash",
                hex::encode(envelope.content_hash())
            ),
        ));
    }
    let record = vault.anchored(&patient, &hash).await?;
    if record.author != caller.account {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!("record {} was anchored by {}, not by the caller", record.id, ss58(&record.author)),
        ));
    }
    let mut keys = Vec::new();
    for key in &upload.keys {
        let recipient = account(key.recipient.as_deref().unwrap_or_default(), "key recipient")?;
        let wrapped = parse_key(key)?;
        vault.check_recipient(&patient, &recipient, record.category, &wrapped).await?;
        keys.push((recipient, wrapped));
    }
    vault.store.put(&patient, &caller.account, &envelope, &keys).await.map_err(store_refusal)?;
    tracing::info!(route = "upload", caller = %ss58(&caller.account), record = record.id, keys = keys.len(), "stored");
    Ok(StatusCode::CREATED)
}

async fn fetch(
    State(vault): State<Arc<Vault>>,
    Path((patient, hash)): Path<(String, String)>,
    Signed { caller, .. }: Signed,
) -> Result<Json<Fetched>, Refused> {
    let (patient, hash) = (account(&patient, "patient")?, hex32(&hash, "record hash")?);
    let outcome = async {
        vault.store.entry(&patient, &hash).await.map_err(store_refusal)?.ok_or_else(|| {
            refuse(
                StatusCode::NOT_FOUND,
                format!("no record 0x{} of this patient in the vault", hex::encode(hash)),
            )
        })?;
        let record = vault.anchored(&patient, &hash).await?;
        let emergency =
            match vault.rule.check(&caller.account, &patient, record.category).await.map_err(internal)? {
                Ok(Release::Patient) => false,
                Ok(Release::Reader { emergency, .. }) => emergency,
                Err(refusal) => return Err(refuse(StatusCode::FORBIDDEN, refusal)),
            };
        let (bytes, key) = vault.store.get(&patient, &hash, &caller.account).await.map_err(store_refusal)?;
        let key = match key {
            Some(key) => key,
            None if emergency => {
                let key = vault.emergency_key_for(&caller.account, &patient, &hash).await?;
                tracing::warn!(route = "fetch", caller = %ss58(&caller.account), patient = %ss58(&patient), hash = %hex::encode(hash), "released under emergency access: data key re-wrapped from the emergency key");
                key
            }
            None => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    "no data key is wrapped for the caller: the patient has not shared this record with its key",
                ))
            }
        };
        Ok(Fetched {
            envelope: format!("0x{}", hex::encode(bytes)),
            key: KeyJson {
                recipient: None,
                public_key: key.recipient.to_string(),
                wrapped: format!("0x{}", hex::encode(key.as_bytes())),
            },
        })
    }
    .await;
    match &outcome {
        Ok(_) => {
            tracing::info!(route = "fetch", caller = %ss58(&caller.account), hash = %hex::encode(hash), "released")
        }
        Err(Refused(status, reason)) => {
            tracing::warn!(route = "fetch", caller = %ss58(&caller.account), hash = %hex::encode(hash), %status, reason, "refused")
        }
    }
    outcome.map(Json)
}

async fn add_key(
    State(vault): State<Arc<Vault>>,
    Path((patient, hash, recipient)): Path<(String, String, String)>,
    Signed { caller, body }: Signed,
) -> Result<StatusCode, Refused> {
    let (patient, hash, recipient) =
        (account(&patient, "patient")?, hex32(&hash, "record hash")?, account(&recipient, "recipient")?);
    if caller.account != patient {
        return Err(refuse(StatusCode::FORBIDDEN, "only the patient shares a record's key"));
    }
    let key: KeyJson =
        serde_json::from_slice(&body).map_err(|e| refuse(StatusCode::BAD_REQUEST, format!("body: {e}")))?;
    let wrapped = parse_key(&key)?;
    let record = vault.anchored(&patient, &hash).await?;
    vault.check_recipient(&patient, &recipient, record.category, &wrapped).await?;
    vault.store.set_key(&patient, &hash, &recipient, &wrapped).await.map_err(store_refusal)?;
    tracing::info!(route = "add_key", caller = %ss58(&caller.account), recipient = %ss58(&recipient), "key added");
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    State(vault): State<Arc<Vault>>,
    Path((patient, recipient)): Path<(String, String)>,
    Signed { caller, .. }: Signed,
) -> Result<Json<serde_json::Value>, Refused> {
    let (patient, recipient) = (account(&patient, "patient")?, account(&recipient, "recipient")?);
    if caller.account != patient {
        return Err(refuse(StatusCode::FORBIDDEN, "only the patient revokes a reader's keys"));
    }
    let removed = vault.store.remove_recipient(&patient, &recipient).await.map_err(store_refusal)?;
    tracing::info!(route = "revoke", caller = %ss58(&caller.account), recipient = %ss58(&recipient), removed, "keys deleted");
    Ok(Json(serde_json::json!({ "removed": removed })))
}

async fn erase(
    State(vault): State<Arc<Vault>>,
    Path((patient, hash)): Path<(String, String)>,
    Signed { caller, .. }: Signed,
) -> Result<StatusCode, Refused> {
    let (patient, hash) = (account(&patient, "patient")?, hex32(&hash, "record hash")?);
    if caller.account != patient {
        return Err(refuse(StatusCode::FORBIDDEN, "only the patient erases a record"));
    }
    vault.store.erase(&patient, &hash).await.map_err(store_refusal)?;
    tracing::info!(route = "erase", caller = %ss58(&caller.account), hash = %hex::encode(hash), "erased");
    Ok(StatusCode::NO_CONTENT)
}

/// The router over a connected vault.
async fn router(config: &Config) -> Result<Router> {
    let node = Node::connect(&config.node).await?;
    let deployment = ehr_client::deploy::Deployment::load(&config.deployment)?;
    let records = deployment.contract(&config.artifacts, "patient_records")?;
    let registry = deployment.contract(&config.artifacts, "provider_registry")?;
    let node = Arc::new(node);
    let store = match &config.blobs {
        None => Store::open_local(&config.data),
        Some(url) => Store::open_s3(url, &config.data),
    }
    .context("opening the vault's store")?;
    let emergency = match &config.emergency_key {
        Some(path) => {
            let keys = ehr_envelope::keyfile::read(path).context("--emergency-key")?;
            let published: Option<[u8; 32]> =
                node.dry_run(&records, &records.address, "emergency_key", &()).await?.value;
            if published != Some(keys.public().0) {
                tracing::warn!(
                    "the emergency key file's public key {} is not the one published on chain ({}): records wrapped for the published key cannot be opened",
                    keys.public(),
                    published.map_or("none".to_string(), |k| format!("0x{}", hex::encode(k)))
                );
            }
            Some(keys)
        }
        None => None,
    };
    let vault = Vault {
        emergency,
        rule: ReleaseRule::new(node.clone(), records.clone(), config.audit_window),
        node,
        records,
        registry,
        store,
        max_skew_ms: config.max_skew_ms,
    };
    Ok(Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/records/{patient}/{hash}", put(upload).get(fetch).delete(erase))
        .route("/v1/records/{patient}/{hash}/keys/{recipient}", put(add_key))
        .route("/v1/records/{patient}/keys/{recipient}", delete(revoke))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(Arc::new(vault)))
}

/// Serves the vault on `listen` until the process ends; prints `listening on ADDR` once bound.
pub async fn serve(config: Config, listen: SocketAddr) -> Result<()> {
    let app = router(&config).await?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await.context("serving")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
