//! Envelope encryption of health records.
//!
//! A document is sealed once, under a fresh random **data key**, with XChaCha20-Poly1305
//! (RustCrypto). The sealed bytes, the [`Envelope`], are what a store keeps and what the chain
//! anchors: its SHA-256 ([`Envelope::content_hash`]) is a hash of ciphertext, never of the
//! guessable plaintext. The data key is then **wrapped** for each recipient (the patient and
//! every provider allowed to read the record's category) with HPKE (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, the `hpke` crate). Wrapped
//! keys live beside the envelope, not in it, so granting a new reader adds a wrapped key and
//! revoking one deletes it without touching the envelope or its anchored hash.
//!
//! Bindings, so that nothing can be moved:
//! - the envelope's AEAD associated data is its header and the patient's account id: an
//!   envelope presented as another patient's does not open;
//! - a wrapped key's HPKE associated data is the envelope's content hash: a wrapped key opens
//!   only for the envelope it was made for (and HPKE binds it to the recipient's key).
//!
//! No cryptography is implemented here: this crate only fixes the format and the bindings.
//!
//! # Formats
//! Envelope: `"EHRV"` ‖ version `0x01` ‖ suite `0x01` (XChaCha20-Poly1305) ‖ 24-byte nonce ‖
//! ciphertext with its 16-byte tag. Wrapped key ([`WRAPPED_KEY_LEN`] = 112 bytes): the HPKE
//! encapsulated key (32) ‖ the sealed data key (32 + 16-byte tag).

#![forbid(unsafe_code)]

pub mod keyfile;

use std::fmt;

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use hpke::{
    aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem as _, OpModeR,
    OpModeS, Serializable,
};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// The envelope's magic bytes.
pub const MAGIC: &[u8; 4] = b"EHRV";
/// The envelope format version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Suite id of XChaCha20-Poly1305 with a 24-byte random nonce.
pub const SUITE_XCHACHA20POLY1305: u8 = 1;
/// Length of the envelope header (magic, version, suite, nonce).
pub const HEADER_LEN: usize = 4 + 1 + 1 + 24;
/// Length of the AEAD tag.
pub const TAG_LEN: usize = 16;
/// Length of a wrapped data key: HPKE encapsulated key (32) and sealed data key (32 + 16).
pub const WRAPPED_KEY_LEN: usize = 32 + 32 + TAG_LEN;
/// HPKE `info` of every wrapped data key (domain separation).
pub const WRAP_INFO: &[u8] = b"ehr-on-ink/envelope/v1/data-key";

type Kem = X25519HkdfSha256;

/// What went wrong, in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Fewer bytes than a header and a tag.
    #[error("not an envelope: {len} bytes, an envelope has at least {min}")]
    TooShort {
        /// Bytes given.
        len: usize,
        /// Smallest envelope.
        min: usize,
    },
    /// The bytes do not start with `EHRV`.
    #[error("not an envelope: it does not start with \"EHRV\" (a plaintext document?)")]
    BadMagic,
    /// A version this crate does not read.
    #[error("envelope format version {0} is not supported (this build reads version 1)")]
    UnsupportedVersion(u8),
    /// A cipher suite this crate does not know.
    #[error("envelope cipher suite {0} is not supported (1 = XChaCha20-Poly1305)")]
    UnsupportedSuite(u8),
    /// The AEAD refused: the envelope was altered, or the data key or patient is not the one it
    /// was sealed with.
    #[error(
        "the envelope does not open: altered, or the data key or patient is not the one it was sealed for"
    )]
    Tampered,
    /// HPKE refused to unwrap: the wrapped key is for another recipient or another envelope, or
    /// altered.
    #[error("the wrapped key does not open with this key: it is for another recipient or another envelope, or altered")]
    WrongKey,
    /// A wrapped key of the wrong length.
    #[error("a wrapped key is {WRAPPED_KEY_LEN} bytes, got {0}")]
    BadWrappedKeyLength(usize),
    /// A public key that is not 32 bytes, or one HPKE refuses (e.g. all zeros).
    #[error("not a usable X25519 public key: {0}")]
    BadPublicKey(String),
    /// A secret key that is not 32 bytes.
    #[error("not an X25519 secret key: {0}")]
    BadSecretKey(String),
}

/// An X25519 public encryption key: what a patient or provider publishes on-chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Parses 64 hex digits (an optional `0x` prefix allowed).
    pub fn from_hex(text: &str) -> Result<Self, EnvelopeError> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let bytes = hex::decode(digits).map_err(|e| EnvelopeError::BadPublicKey(format!("{text:?}: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| EnvelopeError::BadPublicKey(format!("{} bytes, not 32", b.len())))?;
        Ok(PublicKey(bytes))
    }

    fn hpke(&self) -> Result<<Kem as hpke::Kem>::PublicKey, EnvelopeError> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|e| EnvelopeError::BadPublicKey(format!("{e}")))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// An X25519 key pair of a patient or provider. The secret never leaves its owner.
#[derive(Clone)]
pub struct KeyPair {
    secret: <Kem as hpke::Kem>::PrivateKey,
    public: PublicKey,
}

impl KeyPair {
    /// A fresh key pair from the operating system's random source.
    pub fn generate() -> Self {
        let (secret, public) = Kem::gen_keypair(&mut OsRng);
        KeyPair { secret, public: PublicKey(public.to_bytes().into()) }
    }

    /// The key pair of a 32-byte secret key.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() != 32 {
            return Err(EnvelopeError::BadSecretKey(format!("{} bytes, not 32", bytes.len())));
        }
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map_err(|e| EnvelopeError::BadSecretKey(format!("{e}")))?;
        let public = Kem::sk_to_pk(&secret);
        Ok(KeyPair { secret, public: PublicKey(public.to_bytes().into()) })
    }

    /// The secret key's bytes (zeroized when dropped), for the key file.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes().into())
    }

    /// The public key to publish.
    pub fn public(&self) -> PublicKey {
        self.public
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair {{ public: {}, secret: <hidden> }}", self.public)
    }
}

/// A record's random 256-bit data key. Zeroized when dropped; never stored unwrapped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// Wraps this data key for `recipient`, bound to the envelope whose content hash is
    /// `content_hash`.
    pub fn wrap_for(
        &self,
        recipient: &PublicKey,
        content_hash: &[u8; 32],
    ) -> Result<WrappedKey, EnvelopeError> {
        let (encapped, sealed) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
            &OpModeS::Base,
            &recipient.hpke()?,
            WRAP_INFO,
            self.0.as_ref(),
            content_hash,
            &mut OsRng,
        )
        .map_err(|e| EnvelopeError::BadPublicKey(format!("{e}")))?;
        let mut bytes = [0u8; WRAPPED_KEY_LEN];
        bytes[..32].copy_from_slice(&encapped.to_bytes());
        bytes[32..].copy_from_slice(&sealed);
        Ok(WrappedKey { recipient: *recipient, bytes })
    }
}

/// A data key wrapped for one recipient with HPKE: [`WRAPPED_KEY_LEN`] bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Whose public key it was wrapped for.
    pub recipient: PublicKey,
    bytes: [u8; WRAPPED_KEY_LEN],
}

impl WrappedKey {
    /// The wrapped key of `recipient` from its bytes.
    pub fn from_bytes(recipient: PublicKey, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let bytes: [u8; WRAPPED_KEY_LEN] =
            bytes.try_into().map_err(|_| EnvelopeError::BadWrappedKeyLength(bytes.len()))?;
        Ok(WrappedKey { recipient, bytes })
    }

    /// Its bytes (what a vault stores and releases).
    pub fn as_bytes(&self) -> &[u8; WRAPPED_KEY_LEN] {
        &self.bytes
    }

    /// Unwraps the data key with the recipient's key pair, for the envelope whose content hash
    /// is `content_hash`.
    pub fn unwrap(&self, keys: &KeyPair, content_hash: &[u8; 32]) -> Result<DataKey, EnvelopeError> {
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&self.bytes[..32])
            .map_err(|_| EnvelopeError::WrongKey)?;
        let mut opened = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &keys.secret,
            &encapped,
            WRAP_INFO,
            &self.bytes[32..],
            content_hash,
        )
        .map_err(|_| EnvelopeError::WrongKey)?;
        let key: Result<[u8; 32], _> = opened.as_slice().try_into();
        opened.zeroize();
        Ok(DataKey(Zeroizing::new(key.map_err(|_| EnvelopeError::WrongKey)?)))
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedKey {{ recipient: {}, {} bytes }}", self.recipient, WRAPPED_KEY_LEN)
    }
}

/// A sealed document: header and ciphertext. Its bytes are what a store keeps and what the
/// chain anchors (their SHA-256).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope(Vec<u8>);

impl Envelope {
    /// Seals `document` for `patient` (the 32-byte account id) under a fresh data key; returns
    /// the envelope and the data key to wrap for its readers.
    pub fn seal(document: &[u8], patient: &[u8; 32]) -> (Envelope, DataKey) {
        let key = DataKey::generate();
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let mut bytes = Vec::with_capacity(HEADER_LEN + document.len() + TAG_LEN);
        bytes.extend_from_slice(MAGIC);
        bytes.push(VERSION);
        bytes.push(SUITE_XCHACHA20POLY1305);
        bytes.extend_from_slice(&nonce);
        let aad = associated_data(&bytes[..HEADER_LEN], patient);
        let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
        // Encryption with a valid key and nonce only fails on inputs beyond 2^38 bytes.
        let ciphertext = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: document, aad: &aad })
            .expect("XChaCha20-Poly1305 encrypts any document below 256 GiB");
        bytes.extend_from_slice(&ciphertext);
        (Envelope(bytes), key)
    }

    /// Seals `document` for `patient` and wraps its data key for each of `recipients`.
    pub fn seal_for(
        document: &[u8],
        patient: &[u8; 32],
        recipients: &[PublicKey],
    ) -> Result<(Envelope, Vec<WrappedKey>), EnvelopeError> {
        let (envelope, key) = Envelope::seal(document, patient);
        let hash = envelope.content_hash();
        let wrapped = recipients.iter().map(|r| key.wrap_for(r, &hash)).collect::<Result<_, _>>()?;
        Ok((envelope, wrapped))
    }

    /// Checks the header of stored bytes; the ciphertext is checked when opened.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Envelope, EnvelopeError> {
        let min = HEADER_LEN + TAG_LEN;
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(if bytes.len() < min {
                EnvelopeError::TooShort { len: bytes.len(), min }
            } else {
                EnvelopeError::BadMagic
            });
        }
        if bytes.len() < min {
            return Err(EnvelopeError::TooShort { len: bytes.len(), min });
        }
        if bytes[4] != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(bytes[4]));
        }
        if bytes[5] != SUITE_XCHACHA20POLY1305 {
            return Err(EnvelopeError::UnsupportedSuite(bytes[5]));
        }
        Ok(Envelope(bytes))
    }

    /// The envelope's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The envelope's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// SHA-256 of the envelope: the record's on-chain `content_hash`.
    pub fn content_hash(&self) -> [u8; 32] {
        Sha256::digest(&self.0).into()
    }

    /// Opens the envelope with its data key, as the record of `patient`.
    pub fn open(&self, key: &DataKey, patient: &[u8; 32]) -> Result<Vec<u8>, EnvelopeError> {
        let aad = associated_data(&self.0[..HEADER_LEN], patient);
        let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&self.0[6..HEADER_LEN]);
        cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &self.0[HEADER_LEN..], aad: &aad })
            .map_err(|_| EnvelopeError::Tampered)
    }

    /// Unwraps `wrapped` with `keys` and opens the envelope: what a reader does.
    pub fn open_with(
        &self,
        wrapped: &WrappedKey,
        keys: &KeyPair,
        patient: &[u8; 32],
    ) -> Result<Vec<u8>, EnvelopeError> {
        let key = wrapped.unwrap(keys, &self.content_hash())?;
        self.open(&key, patient)
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Envelope({} bytes, sha256 0x{})", self.0.len(), hex::encode(self.content_hash()))
    }
}

fn associated_data(header: &[u8], patient: &[u8; 32]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + 32);
    aad.extend_from_slice(header);
    aad.extend_from_slice(patient);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATIENT: [u8; 32] = [7; 32];
    const DOC: &[u8] = br#"{"resourceType":"Bundle","entry":[]}"#;

    #[test]
    fn sealed_for_readers_opens_for_each_and_only_them() {
        let (patient, doctor, stranger) = (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
        let (envelope, wrapped) =
            Envelope::seal_for(DOC, &PATIENT, &[patient.public(), doctor.public()]).unwrap();
        assert_eq!(envelope.open_with(&wrapped[0], &patient, &PATIENT).unwrap(), DOC);
        assert_eq!(envelope.open_with(&wrapped[1], &doctor, &PATIENT).unwrap(), DOC);
        assert_eq!(envelope.open_with(&wrapped[1], &stranger, &PATIENT), Err(EnvelopeError::WrongKey));
        assert!(!envelope.as_bytes().windows(DOC.len()).any(|w| w == DOC), "no plaintext in the envelope");
        assert_eq!(envelope.as_bytes().len(), HEADER_LEN + DOC.len() + TAG_LEN);
        assert_eq!(wrapped[0].as_bytes().len(), WRAPPED_KEY_LEN);
    }

    #[test]
    fn the_same_document_seals_to_different_hashes() {
        let (a, _) = Envelope::seal(DOC, &PATIENT);
        let (b, _) = Envelope::seal(DOC, &PATIENT);
        assert_ne!(a.content_hash(), b.content_hash(), "a guess of the plaintext confirms nothing");
        assert_ne!(a.content_hash(), <[u8; 32]>::from(Sha256::digest(DOC)));
    }

    #[test]
    fn altered_or_moved_envelopes_do_not_open() {
        let keys = KeyPair::generate();
        let (envelope, wrapped) = Envelope::seal_for(DOC, &PATIENT, &[keys.public()]).unwrap();
        let key = wrapped[0].unwrap(&keys, &envelope.content_hash()).unwrap();
        for at in [0, 5, 6, HEADER_LEN, envelope.as_bytes().len() - 1] {
            let mut bytes = envelope.clone().into_bytes();
            bytes[at] ^= 1;
            match Envelope::from_bytes(bytes) {
                Ok(altered) => {
                    assert_eq!(altered.open(&key, &PATIENT), Err(EnvelopeError::Tampered), "byte {at}")
                }
                Err(err) => assert!(
                    matches!(
                        err,
                        EnvelopeError::BadMagic
                            | EnvelopeError::UnsupportedVersion(_)
                            | EnvelopeError::UnsupportedSuite(_)
                    ),
                    "{err}"
                ),
            }
        }
        assert_eq!(envelope.open(&key, &[8; 32]), Err(EnvelopeError::Tampered), "another patient's chart");
        // A wrapped key is bound to its envelope.
        let (other, _) = Envelope::seal(DOC, &PATIENT);
        assert_eq!(wrapped[0].unwrap(&keys, &other.content_hash()).err(), Some(EnvelopeError::WrongKey));
    }

    #[test]
    fn malformed_input_is_refused_with_its_reason() {
        assert_eq!(Envelope::from_bytes(b"{}".to_vec()), Err(EnvelopeError::TooShort { len: 2, min: 46 }));
        assert_eq!(Envelope::from_bytes(DOC.repeat(2)), Err(EnvelopeError::BadMagic));
        let mut bytes = Envelope::seal(DOC, &PATIENT).0.into_bytes();
        bytes[4] = 9;
        assert_eq!(Envelope::from_bytes(bytes.clone()), Err(EnvelopeError::UnsupportedVersion(9)));
        bytes[4] = 1;
        bytes[5] = 2;
        assert_eq!(Envelope::from_bytes(bytes), Err(EnvelopeError::UnsupportedSuite(2)));
        assert_eq!(
            WrappedKey::from_bytes(PublicKey([1; 32]), &[0; 10]),
            Err(EnvelopeError::BadWrappedKeyLength(10))
        );
        assert!(matches!(PublicKey::from_hex("0x1234"), Err(EnvelopeError::BadPublicKey(_))));
        assert!(matches!(PublicKey::from_hex("zz"), Err(EnvelopeError::BadPublicKey(_))));
        assert!(matches!(KeyPair::from_secret_bytes(&[1; 31]), Err(EnvelopeError::BadSecretKey(_))));
        let (_, key) = Envelope::seal(DOC, &PATIENT);
        assert!(matches!(key.wrap_for(&PublicKey([0; 32]), &[0; 32]), Err(EnvelopeError::BadPublicKey(_))));
    }

    #[test]
    fn key_pairs_round_trip_through_their_secret_bytes() {
        let keys = KeyPair::generate();
        let again = KeyPair::from_secret_bytes(keys.secret_bytes().as_ref()).unwrap();
        assert_eq!(again.public(), keys.public());
        assert_eq!(PublicKey::from_hex(&keys.public().to_string()).unwrap(), keys.public());
        assert!(!format!("{keys:?}").contains(&hex::encode(keys.secret_bytes().as_ref())));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_document_round_trips(document in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let keys = KeyPair::generate();
            let (envelope, wrapped) = Envelope::seal_for(&document, &PATIENT, &[keys.public()]).unwrap();
            let stored = Envelope::from_bytes(envelope.as_bytes().to_vec()).unwrap();
            proptest::prop_assert_eq!(stored.open_with(&wrapped[0], &keys, &PATIENT).unwrap(), document);
        }
    }
}
