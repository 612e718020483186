//! Signed requests: every vault request is signed by the caller's chain account (sr25519, the
//! signature `subxt-signer` and Substrate wallets make, signing context `substrate`).
//!
//! The signature covers, one per line: the scheme `ehr-vault/v1`, the HTTP method, the path
//! with its query, the hex SHA-256 of the body, the timestamp (Unix ms) and a 16-byte random
//! nonce (hex). They travel in four headers: [`ACCOUNT_HEADER`] (SS58 or 0x-hex),
//! [`TIMESTAMP_HEADER`], [`NONCE_HEADER`] and [`SIGNATURE_HEADER`] (hex). The vault refuses a
//! request whose timestamp is more than its allowed skew from its clock ([`AuthError::Stale`])
//! and one whose (account, nonce) it has seen within that window ([`AuthError::Replayed`]; the vault's
//! store keeps the pairs, so a restart forgets none): a captured request can be neither
//! replayed nor kept for later.
//!
//! Browser wallets (the polkadot{.js} extension, Talisman, SubWallet) sign raw bytes only
//! wrapped as `<Bytes>…</Bytes>`, so that a signed message can never be a transaction; the
//! vault accepts a signature over the payload or over the payload so wrapped
//! ([`WALLET_PREFIX`], [`WALLET_SUFFIX`]). Either way it is the same payload, so the same
//! checks apply.

use ehr_client::{account_of, parse_account, ss58, Keypair};
use ehr_types::AccountId;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subxt_signer::sr25519;

/// The scheme, first line of every signed payload.
pub const SCHEME: &str = "ehr-vault/v1";
/// Header with the caller's account (SS58 or 0x-hex).
pub const ACCOUNT_HEADER: &str = "x-ehr-account";
/// Header with the request's time, Unix milliseconds.
pub const TIMESTAMP_HEADER: &str = "x-ehr-timestamp";
/// Header with the request's 16-byte random nonce, hex.
pub const NONCE_HEADER: &str = "x-ehr-nonce";
/// Header with the sr25519 signature, hex (64 bytes).
pub const SIGNATURE_HEADER: &str = "x-ehr-signature";
/// What browser wallets put before the bytes they are asked to sign.
pub const WALLET_PREFIX: &[u8] = b"<Bytes>";
/// What browser wallets put after the bytes they are asked to sign.
pub const WALLET_SUFFIX: &[u8] = b"</Bytes>";
/// Default largest distance between a request's timestamp and the vault's clock.
pub const DEFAULT_MAX_SKEW_MS: u64 = 60_000;

/// Why a request is not authenticated. Each says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is missing.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header does not parse.
    #[error("header {name}: {reason}")]
    BadHeader {
        /// The header.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The timestamp is too far from the vault's clock.
    #[error("stale request: its timestamp is {skew_ms} ms from the vault's clock (at most {max_skew_ms} ms allowed)")]
    Stale {
        /// Distance to the vault's clock.
        skew_ms: u64,
        /// The allowed distance.
        max_skew_ms: u64,
    },
    /// The signature does not verify for the account and the request.
    #[error(
        "the signature does not match the account and this request (method, path, body, timestamp, nonce)"
    )]
    BadSignature,
    /// The (account, nonce) pair was already used within the window.
    #[error("replayed request: this account already used this nonce")]
    Replayed,
}

/// The exact bytes a request's signature covers.
pub fn signing_payload(
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp_ms: u64,
    nonce: &[u8; 16],
) -> Vec<u8> {
    format!(
        "{SCHEME}\n{}\n{path_and_query}\n{}\n{timestamp_ms}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(Sha256::digest(body)),
        hex::encode(nonce)
    )
    .into_bytes()
}

/// The four headers that sign a request of `signer` at `now_ms`, with a fresh random nonce.
pub fn sign(
    signer: &Keypair,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_ms: u64,
) -> [(&'static str, String); 4] {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let signature = signer.sign(&signing_payload(method, path_and_query, body, now_ms, &nonce));
    [
        (ACCOUNT_HEADER, ss58(&account_of(signer))),
        (TIMESTAMP_HEADER, now_ms.to_string()),
        (NONCE_HEADER, hex::encode(nonce)),
        (SIGNATURE_HEADER, hex::encode(signature.0)),
    ]
}

/// A request whose signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The account that signed it.
    pub account: AccountId,
    /// Its timestamp (Unix ms).
    pub timestamp_ms: u64,
    /// Its nonce.
    pub nonce: [u8; 16],
}

/// Checks a request's headers (looked up by `header(name)`), at the vault's time `now_ms`,
/// allowing `max_skew_ms` either way. Replays are the vault store's to refuse (`Store::first_use`).
pub fn verify(
    header: impl Fn(&str) -> Option<String>,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_ms: u64,
    max_skew_ms: u64,
) -> Result<Authenticated, AuthError> {
    let get = |name: &'static str| header(name).ok_or(AuthError::MissingHeader(name));
    let bad = |name: &'static str, reason: String| AuthError::BadHeader { name, reason };
    let account = parse_account(&get(ACCOUNT_HEADER)?).map_err(|e| bad(ACCOUNT_HEADER, format!("{e:#}")))?;
    let timestamp_ms: u64 = get(TIMESTAMP_HEADER)?
        .parse()
        .map_err(|e| bad(TIMESTAMP_HEADER, format!("not Unix milliseconds: {e}")))?;
    let nonce: [u8; 16] = hex::decode(get(NONCE_HEADER)?)
        .map_err(|e| bad(NONCE_HEADER, e.to_string()))?
        .try_into()
        .map_err(|b: Vec<u8>| bad(NONCE_HEADER, format!("{} bytes, not 16", b.len())))?;
    let signature: [u8; 64] = hex::decode(get(SIGNATURE_HEADER)?)
        .map_err(|e| bad(SIGNATURE_HEADER, e.to_string()))?
        .try_into()
        .map_err(|b: Vec<u8>| bad(SIGNATURE_HEADER, format!("{} bytes, not 64", b.len())))?;
    let skew_ms = now_ms.abs_diff(timestamp_ms);
    if skew_ms > max_skew_ms {
        return Err(AuthError::Stale { skew_ms, max_skew_ms });
    }
    let payload = signing_payload(method, path_and_query, body, timestamp_ms, &nonce);
    let public = sr25519::PublicKey(*AsRef::<[u8; 32]>::as_ref(&account));
    let signature = sr25519::Signature(signature);
    let wrapped = || [WALLET_PREFIX, &payload, WALLET_SUFFIX].concat();
    if !sr25519::verify(&signature, &payload, &public) && !sr25519::verify(&signature, wrapped(), &public) {
        return Err(AuthError::BadSignature);
    }
    Ok(Authenticated { account, timestamp_ms, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000;
    const PATH: &str = "/records/5Grw/0x12?x=1";

    fn headers<'a>(signed: &'a [(&'static str, String); 4]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| signed.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    fn alice() -> Keypair {
        ehr_client::keypair("//Alice").unwrap()
    }

    #[test]
    fn a_signed_request_verifies_as_its_account() {
        let signed = sign(&alice(), "put", PATH, b"envelope", NOW);
        let ok =
            verify(headers(&signed), "PUT", PATH, b"envelope", NOW + 5_000, DEFAULT_MAX_SKEW_MS).unwrap();
        assert_eq!(ok.account, account_of(&alice()));
        assert_eq!(ok.timestamp_ms, NOW);
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let signed = sign(&alice(), "GET", PATH, b"", NOW);
        for (method, path, body) in
            [("POST", PATH, &b""[..]), ("GET", "/records/5Grw/0x13?x=1", b""), ("GET", PATH, b"x")]
        {
            assert_eq!(
                verify(headers(&signed), method, path, body, NOW, DEFAULT_MAX_SKEW_MS),
                Err(AuthError::BadSignature)
            );
        }
        // Signed by Bob, claimed as Alice's.
        let mut forged = sign(&ehr_client::keypair("//Bob").unwrap(), "GET", PATH, b"", NOW);
        forged[0].1 = ss58(&account_of(&alice()));
        assert_eq!(
            verify(headers(&forged), "GET", PATH, b"", NOW, DEFAULT_MAX_SKEW_MS),
            Err(AuthError::BadSignature)
        );
        // A changed timestamp or nonce too.
        let mut later = signed.clone();
        later[1].1 = (NOW + 1).to_string();
        assert_eq!(
            verify(headers(&later), "GET", PATH, b"", NOW, DEFAULT_MAX_SKEW_MS),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn a_wallet_signature_over_the_wrapped_payload_verifies_and_nothing_else_wrapped_does() {
        let nonce = [9u8; 16];
        let payload = signing_payload("PUT", PATH, b"envelope", NOW, &nonce);
        let headers_of = |signature: [u8; 64]| {
            let signed: [(&'static str, String); 4] = [
                (ACCOUNT_HEADER, ss58(&account_of(&alice()))),
                (TIMESTAMP_HEADER, NOW.to_string()),
                (NONCE_HEADER, hex::encode(nonce)),
                (SIGNATURE_HEADER, hex::encode(signature)),
            ];
            move |name: &str| signed.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        };
        let wallet = alice().sign(&[WALLET_PREFIX, &payload, WALLET_SUFFIX].concat());
        assert!(verify(headers_of(wallet.0), "PUT", PATH, b"envelope", NOW, DEFAULT_MAX_SKEW_MS).is_ok());
        // The same wrapping of another request, or another wrapping, does not verify.
        assert_eq!(
            verify(headers_of(wallet.0), "PUT", PATH, b"other", NOW, DEFAULT_MAX_SKEW_MS),
            Err(AuthError::BadSignature)
        );
        let other = alice().sign(&[b"<Wrapped>", &payload[..], b"</Wrapped>"].concat());
        assert_eq!(
            verify(headers_of(other.0), "PUT", PATH, b"envelope", NOW, DEFAULT_MAX_SKEW_MS),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn stale_and_future_requests_are_refused() {
        let signed = sign(&alice(), "GET", PATH, b"", NOW);
        let late = verify(headers(&signed), "GET", PATH, b"", NOW + 60_001, DEFAULT_MAX_SKEW_MS);
        assert_eq!(late, Err(AuthError::Stale { skew_ms: 60_001, max_skew_ms: DEFAULT_MAX_SKEW_MS }));
        let early = verify(headers(&signed), "GET", PATH, b"", NOW - 60_001, DEFAULT_MAX_SKEW_MS);
        assert!(matches!(early, Err(AuthError::Stale { .. })));
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let signed = sign(&alice(), "GET", PATH, b"", NOW);
        let mut missing = signed.clone();
        missing[3].0 = "x-other";
        assert_eq!(
            verify(headers(&missing), "GET", PATH, b"", NOW, 1),
            Err(AuthError::MissingHeader(SIGNATURE_HEADER))
        );
        for (index, value, name) in [
            (0, "not-an-account", ACCOUNT_HEADER),
            (1, "soon", TIMESTAMP_HEADER),
            (2, "abcd", NONCE_HEADER),
            (3, "zz", SIGNATURE_HEADER),
        ] {
            let mut bad = signed.clone();
            bad[index].1 = value.to_string();
            match verify(headers(&bad), "GET", PATH, b"", NOW, DEFAULT_MAX_SKEW_MS) {
                Err(AuthError::BadHeader { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
