//! The encrypted record vault (issue "Private data layer"), built in steps. This step: the
//! signed-request scheme ([`auth`]) every call to the vault uses, so that the vault knows which
//! chain account asks and no request can be replayed or kept for later.

#![forbid(unsafe_code)]

pub mod auth;
