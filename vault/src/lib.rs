//! The encrypted record vault: it keeps envelopes (ciphertext) and wrapped data keys, and
//! releases them only to the patient or to a reader with consent now and an audited request on
//! chain.
//!
//! - [`auth`]: the signed-request scheme every call uses (the caller's sr25519 chain account;
//!   no replay, no stale request);
//! - [`release`]: the release rule, checked on chain at the best block;
//! - [`store`]: envelopes behind `object_store` (local filesystem or S3-compatible) and the
//!   SQLite index of records, wrapped keys, tombstones and seen requests;
//! - [`server`]: the axum HTTP service; [`client`]: its typed client.

#![forbid(unsafe_code)]

pub mod auth;
pub mod client;
pub mod release;
pub mod server;
pub mod store;
