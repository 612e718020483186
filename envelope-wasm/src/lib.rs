//! The record envelope for the browser.
//!
//! The dApp seals, wraps, re-wraps and opens records with this module: the very code of
//! [`ehr_envelope`] that the vault, the CLI and the oracle run, compiled to WebAssembly
//! (`wasm32-unknown-unknown`, bindings by `wasm-bindgen --target web`). Nothing here is
//! cryptography of its own: each function parses its byte arguments, calls `ehr_envelope`, and
//! turns its typed error into a message that says what was wrong.
//!
//! Byte arguments and results are `Uint8Array`s in JavaScript. Keys: a secret key is the 32
//! bytes of an X25519 secret (the CLI's key file holds them as 64 hex digits, which
//! [`secret_from_key_file`] reads), a public key its 32 public bytes, a wrapped key
//! [`ehr_envelope::WRAPPED_KEY_LEN`] bytes, a patient its 32-byte account id.
//!
//! Randomness (data keys, nonces, HPKE ephemeral keys, new secrets) comes from the Web
//! Crypto API's `crypto.getRandomValues`, through `getrandom`'s `js` backend.

use ehr_envelope::{Envelope, EnvelopeError, KeyPair, PublicKey, WrappedKey};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// What a function refuses, as a message (a JavaScript `Error` in the browser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl From<EnvelopeError> for Refusal {
    fn from(error: EnvelopeError) -> Self {
        Refusal(error.to_string())
    }
}

#[cfg(target_arch = "wasm32")]
impl From<Refusal> for JsValue {
    fn from(refusal: Refusal) -> Self {
        JsError::new(&refusal.0).into()
    }
}

fn array32(bytes: &[u8], what: &str) -> Result<[u8; 32], Refusal> {
    bytes.try_into().map_err(|_| Refusal(format!("{what} must be 32 bytes, got {}", bytes.len())))
}

fn key_pair(secret: &[u8]) -> Result<KeyPair, Refusal> {
    Ok(KeyPair::from_secret_bytes(secret)?)
}

fn envelope(bytes: &[u8]) -> Result<Envelope, Refusal> {
    Ok(Envelope::from_bytes(bytes.to_vec())?)
}

/// A sealed document: the envelope to store and anchor, its SHA-256 (the record's on-chain
/// `content_hash`) and the data key wrapped for each recipient, in the order given.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
#[derive(Debug, Clone)]
pub struct Sealed {
    envelope: Vec<u8>,
    content_hash: [u8; 32],
    wrapped: Vec<WrappedKey>,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
impl Sealed {
    /// The envelope's bytes.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(getter))]
    pub fn envelope(&self) -> Vec<u8> {
        self.envelope.clone()
    }

    /// SHA-256 of the envelope.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(getter, js_name = contentHash))]
    pub fn content_hash(&self) -> Vec<u8> {
        self.content_hash.to_vec()
    }

    /// How many wrapped keys there are (one per recipient).
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(getter, js_name = wrappedCount))]
    pub fn wrapped_count(&self) -> usize {
        self.wrapped.len()
    }

    /// The data key wrapped for the `index`-th recipient, or `undefined` past the end.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = wrappedKey))]
    pub fn wrapped_key(&self, index: usize) -> Option<Vec<u8>> {
        self.wrapped.get(index).map(|w| w.as_bytes().to_vec())
    }
}

/// A fresh X25519 secret key (32 bytes).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = generateSecret))]
pub fn generate_secret() -> Vec<u8> {
    KeyPair::generate().secret_bytes().to_vec()
}

/// The public key (32 bytes) of a secret key.
///
/// # Errors
/// The secret is not 32 bytes or not an X25519 secret.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = publicKeyOf))]
pub fn public_key_of(secret: &[u8]) -> Result<Vec<u8>, Refusal> {
    Ok(key_pair(secret)?.public().0.to_vec())
}

/// The secret key in a key file's text (64 hex digits, as `ehr keygen` writes it).
///
/// # Errors
/// The text is not 64 hex digits of an X25519 secret.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = secretFromKeyFile))]
pub fn secret_from_key_file(text: &str) -> Result<Vec<u8>, Refusal> {
    let bytes = Zeroizing::new(
        hex::decode(text.trim())
            .map_err(|e| Refusal(format!("not an encryption key file (64 hex digits expected): {e}")))?,
    );
    Ok(key_pair(&bytes)?.secret_bytes().to_vec())
}

/// The key file text (64 hex digits and a newline) of a secret key.
///
/// # Errors
/// The secret is not 32 bytes or not an X25519 secret.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = keyFileOf))]
pub fn key_file_of(secret: &[u8]) -> Result<String, Refusal> {
    Ok(format!("{}\n", hex::encode(key_pair(secret)?.secret_bytes().as_ref())))
}

/// Seals `document` as a record of `patient` (32-byte account id) under a fresh data key and
/// wraps the key for each recipient public key (32 bytes each, concatenated).
///
/// # Errors
/// The patient is not 32 bytes, the recipients are not a whole number of 32-byte keys, or a
/// recipient key is not a usable X25519 public key.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn seal(document: &[u8], patient: &[u8], recipients: &[u8]) -> Result<Sealed, Refusal> {
    let patient = array32(patient, "the patient's account id")?;
    if recipients.len() % 32 != 0 {
        return Err(Refusal(format!(
            "recipients are 32-byte public keys one after another: {} bytes is not a multiple of 32",
            recipients.len()
        )));
    }
    let recipients: Vec<PublicKey> = recipients
        .chunks_exact(32)
        .map(|k| array32(k, "a recipient key").map(PublicKey))
        .collect::<Result<_, _>>()?;
    let (envelope, wrapped) = Envelope::seal_for(document, &patient, &recipients)?;
    Ok(Sealed { content_hash: envelope.content_hash(), envelope: envelope.into_bytes(), wrapped })
}

/// SHA-256 of an envelope (the record's on-chain `content_hash`), after checking its header.
///
/// # Errors
/// The bytes are not an envelope (too short, no `EHRV`, unknown version or suite).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen(js_name = contentHash))]
pub fn content_hash(envelope_bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    Ok(envelope(envelope_bytes)?.content_hash().to_vec())
}

/// Opens an envelope of `patient` with the caller's wrapped key and secret key: what a reader
/// does with what the vault released.
///
/// # Errors
/// The envelope is malformed or altered, the wrapped key is for another key or envelope, or
/// the envelope is not this patient's.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn open(
    envelope_bytes: &[u8],
    wrapped: &[u8],
    secret: &[u8],
    patient: &[u8],
) -> Result<Vec<u8>, Refusal> {
    let keys = key_pair(secret)?;
    let envelope = envelope(envelope_bytes)?;
    let wrapped = WrappedKey::from_bytes(keys.public(), wrapped)?;
    Ok(envelope.open_with(&wrapped, &keys, &array32(patient, "the patient's account id")?)?)
}

/// Unwraps the caller's wrapped key of an envelope and wraps the data key again for
/// `recipient` (32-byte public key): how a patient shares a record with a newly granted
/// reader. The data key never leaves this module.
///
/// # Errors
/// The envelope is malformed, the wrapped key does not open with this secret for this
/// envelope, or the recipient key is not usable.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn rewrap(
    envelope_bytes: &[u8],
    wrapped: &[u8],
    secret: &[u8],
    recipient: &[u8],
) -> Result<Vec<u8>, Refusal> {
    let keys = key_pair(secret)?;
    let hash = envelope(envelope_bytes)?.content_hash();
    let key = WrappedKey::from_bytes(keys.public(), wrapped)?.unwrap(&keys, &hash)?;
    let recipient = PublicKey(array32(recipient, "the recipient's public key")?);
    Ok(key.wrap_for(&recipient, &hash)?.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATIENT: [u8; 32] = [7; 32];

    #[test]
    fn sealed_here_opens_with_the_envelope_crate_and_back() {
        let (alice, bob) = (generate_secret(), generate_secret());
        let recipients = [public_key_of(&alice).unwrap(), public_key_of(&bob).unwrap()].concat();
        let sealed = seal(b"{\"resourceType\":\"Bundle\"}", &PATIENT, &recipients).unwrap();
        assert_eq!(sealed.wrapped_count(), 2);
        assert_eq!(content_hash(&sealed.envelope()).unwrap(), sealed.content_hash());
        // The envelope crate opens what this module sealed...
        let keys = KeyPair::from_secret_bytes(&bob).unwrap();
        let env = Envelope::from_bytes(sealed.envelope()).unwrap();
        let wrapped = WrappedKey::from_bytes(keys.public(), &sealed.wrapped_key(1).unwrap()).unwrap();
        assert_eq!(env.open_with(&wrapped, &keys, &PATIENT).unwrap(), b"{\"resourceType\":\"Bundle\"}");
        // ... and this module opens what the envelope crate sealed.
        let (env, wrapped) =
            Envelope::seal_for(b"labs", &PATIENT, &[KeyPair::from_secret_bytes(&alice).unwrap().public()])
                .unwrap();
        assert_eq!(open(env.as_bytes(), wrapped[0].as_bytes(), &alice, &PATIENT).unwrap(), b"labs");
    }

    #[test]
    fn a_rewrapped_key_opens_for_its_new_reader_only() {
        let (patient, doctor, other) = (generate_secret(), generate_secret(), generate_secret());
        let sealed = seal(b"note", &PATIENT, &public_key_of(&patient).unwrap()).unwrap();
        let mine = sealed.wrapped_key(0).unwrap();
        let theirs = rewrap(&sealed.envelope(), &mine, &patient, &public_key_of(&doctor).unwrap()).unwrap();
        assert_eq!(open(&sealed.envelope(), &theirs, &doctor, &PATIENT).unwrap(), b"note");
        assert!(open(&sealed.envelope(), &theirs, &other, &PATIENT).is_err());
        assert!(rewrap(&sealed.envelope(), &mine, &doctor, &public_key_of(&other).unwrap()).is_err());
    }

    #[test]
    fn bad_input_says_what_was_wrong() {
        let secret = generate_secret();
        let sealed = seal(b"x", &PATIENT, &public_key_of(&secret).unwrap()).unwrap();
        let wrapped = sealed.wrapped_key(0).unwrap();
        assert!(seal(b"x", &[1; 31], &[]).unwrap_err().0.contains("32 bytes, got 31"));
        assert!(seal(b"x", &PATIENT, &[1; 33]).unwrap_err().0.contains("multiple of 32"));
        assert!(open(&sealed.envelope(), &wrapped, &secret, &[8; 32])
            .unwrap_err()
            .0
            .contains("does not open"));
        assert!(open(
            b"{\"resourceType\": \"Bundle\", \"plain\": \"text, never sealed\"}",
            &wrapped,
            &secret,
            &PATIENT
        )
        .unwrap_err()
        .0
        .contains("EHRV"));
        assert!(secret_from_key_file("zz").unwrap_err().0.contains("64 hex digits"));
        let file = key_file_of(&secret).unwrap();
        assert_eq!(secret_from_key_file(&file).unwrap(), secret);
        assert_eq!(sealed.wrapped_key(1), None);
    }
}
