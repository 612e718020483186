//! SS58 addresses of account ids (the generic Substrate prefix 42): the one encoder and parser
//! of the off-chain parts (CLI, client, oracle, audit export). SS58 is base58 of
//! `prefix ‖ account ‖ checksum`, the checksum being the first two bytes of
//! BLAKE2b-512(`"SS58PRE" ‖ prefix ‖ account`) (the Substrate SS58 format).

use alloc::{string::String, vec::Vec};

use blake2::{Blake2b512, Digest};

use crate::AccountId;

/// The generic Substrate address prefix, which every address here uses.
pub const PREFIX: u8 = 42;

/// Why a text is not an SS58 address of an account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ss58Error {
    /// Not base58 text.
    #[error("'{0}' is not base58 text")]
    NotBase58(String),
    /// Not the 35 bytes of a one-byte prefix, a 32-byte account and a 2-byte checksum.
    #[error("'{0}' is not an SS58 account address ({1} bytes, expected 35)")]
    BadLength(String, usize),
    /// A prefix of another network (only one-byte prefixes below 64 are taken).
    #[error("'{0}' has SS58 prefix {1}, not a one-byte prefix below 64")]
    BadPrefix(String, u8),
    /// The checksum does not match: a typo.
    #[error("'{0}' has a wrong SS58 checksum (a typo?)")]
    BadChecksum(String),
}

fn checksum(body: &[u8]) -> [u8; 2] {
    let mut hasher = Blake2b512::new();
    hasher.update(b"SS58PRE");
    hasher.update(body);
    let digest = hasher.finalize();
    [digest[0], digest[1]]
}

/// The SS58 address (prefix 42) of `account`.
pub fn encode(account: &AccountId) -> String {
    let mut bytes = Vec::with_capacity(35);
    bytes.push(PREFIX);
    bytes.extend_from_slice(account.as_ref());
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    bs58::encode(bytes).into_string()
}

/// The account id of an SS58 address of any one-byte prefix (below 64).
///
/// # Errors
/// [`Ss58Error`] naming what is wrong with `text`.
pub fn decode(text: &str) -> Result<AccountId, Ss58Error> {
    let bytes = bs58::decode(text).into_vec().map_err(|_| Ss58Error::NotBase58(text.into()))?;
    if bytes.len() != 35 {
        return Err(Ss58Error::BadLength(text.into(), bytes.len()));
    }
    if bytes[0] >= 64 {
        return Err(Ss58Error::BadPrefix(text.into(), bytes[0]));
    }
    if checksum(&bytes[..33]) != bytes[33..] {
        return Err(Ss58Error::BadChecksum(text.into()));
    }
    let mut account = [0u8; 32];
    account.copy_from_slice(&bytes[1..33]);
    Ok(AccountId::from(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_round_trips() {
        // //Alice's sr25519 public key and its well-known address.
        let alice: [u8; 32] = hex::decode("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
            .unwrap()
            .try_into()
            .unwrap();
        let address = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        assert_eq!(encode(&AccountId::from(alice)), address);
        assert_eq!(decode(address), Ok(AccountId::from(alice)));
    }

    #[test]
    fn typos_and_garbage_are_named() {
        let address = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ";
        assert!(matches!(decode(address), Err(Ss58Error::BadChecksum(_))));
        assert!(matches!(decode("0OIl"), Err(Ss58Error::NotBase58(_))));
        assert!(matches!(decode("5Grwva"), Err(Ss58Error::BadLength(_, _))));
    }
}
