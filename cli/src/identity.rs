//! A user's identity on disk: the chain account (an sr25519 secret URI) and the X25519
//! encryption key, each in its own file readable by its owner only (mode 0600). `ehr keygen`
//! writes both; nothing ever overwrites a key file.

use std::path::Path;

use anyhow::{Context, Result};
use ehr_client::{account_of, keypair, ss58, Keypair};
use ehr_envelope::{keyfile, KeyPair};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

/// Writes a new chain account to `path`: a random 32-byte seed as a `0x`-hex secret URI, mode
/// 0600. Returns its key pair.
pub fn new_account_file(path: &Path) -> Result<Keypair> {
    let mut seed = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(seed.as_mut());
    let suri = Zeroizing::new(format!("0x{}", hex::encode(seed.as_ref())));
    let signer = keypair(&suri)?;
    keyfile::write_secret(path, &format!("{}\n", suri.as_str()))?;
    Ok(signer)
}

/// Reads the chain account in `path` (a secret URI: a `0x`-hex seed, a mnemonic, or a dev
/// URI such as `//Alice`); refuses a file others may read.
pub fn read_account_file(path: &Path) -> Result<Keypair> {
    let text = keyfile::read_secret(path)?;
    keypair(text.trim()).with_context(|| format!("{} is not an account file", path.display()))
}

/// Writes a new encryption key pair to `path`, mode 0600.
pub fn new_key_file(path: &Path) -> Result<KeyPair> {
    let keys = KeyPair::generate();
    keyfile::write(path, &keys)?;
    Ok(keys)
}

/// Reads the encryption key pair in `path`.
pub fn read_key_file(path: &Path) -> Result<KeyPair> {
    Ok(keyfile::read(path)?)
}

/// One line naming an account and an encryption key, for `keygen`'s output.
pub fn describe(signer: Option<&Keypair>, keys: Option<&KeyPair>) -> String {
    let mut parts = Vec::new();
    if let Some(signer) = signer {
        parts.push(format!("account {}", ss58(&account_of(signer))));
    }
    if let Some(keys) = keys {
        parts.push(format!("encryption key {}", keys.public()));
    }
    parts.join(", ")
}
