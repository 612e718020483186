//! The encrypted record vault (issue "Private data layer"), built in steps. So far: the
//! signed-request scheme ([`auth`]) every call to the vault uses, so that the vault knows which
//! chain account asks and no request can be replayed or kept for later; and the release rule
//! ([`release`]), checked on-chain at the best block: consent now, and an audited request.

#![forbid(unsafe_code)]

pub mod auth;
pub mod release;
pub mod server;
pub mod store;
