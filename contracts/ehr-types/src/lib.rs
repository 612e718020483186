//! SCALE types shared by the EHR contracts and the off-chain tools.
//!
//! Everything that crosses a contract boundary lives here once: provider roles, record
//! categories, consent scopes, grants, records, access decisions, the error enums of each
//! contract and the events they emit. The contracts use this crate `no_std`; the drink test
//! suites and the oracle use it with `std` to encode calls and decode results and events with
//! exactly the types the contracts use.
//!
//! Nothing here can hold protected health information: records are a content hash plus a
//! locator of an encrypted off-chain document, patients are pseudonymous accounts with at most
//! a 32-byte commitment to an off-chain profile, and events carry ids and hashes only.
#![cfg_attr(not(feature = "std"), no_std)]
// parity-scale-codec's derive encodes the variant index of data-carrying enum variants as
// `<usize literal> as u8`; cargo-contract denies this lint, so it is allowed for this crate.
// The indices of those variants are pinned with `#[codec(index = N)]`, all well below 256.
#![allow(clippy::cast_possible_truncation)]

extern crate alloc;

pub mod alerts;
pub mod api;
pub mod audit;
#[cfg(feature = "std")]
pub mod decode;
pub mod emergency;
pub mod errors;
pub mod events;
pub mod scores;
#[cfg(feature = "ss58")]
pub mod ss58;

use alloc::vec::Vec;

pub use errors::{RecordsError, RegistryError, ScoreError};
pub use ink::primitives::AccountId;

/// Block number type of the chain (`DefaultEnvironment`).
pub type BlockNumber = u32;
/// Id of a record of a patient: the chart's records are numbered per patient from 0
/// (`0..Patient::record_count`); the oracle's risk reports from [`FIRST_REPORT_ID`] up.
pub type RecordId = u32;

/// The first id of the risk-report records that the score contract anchors
/// (`ReportAnchor::anchor_reports`): 2³¹. Report ids are numbered across all patients in the
/// order anchored, so that anchoring a batch of reports reads and writes one counter instead
/// of each patient's entry (one storage write, ≈ 0.13·10⁹ ref_time, per patient). They are not
/// in the chart's pages (`records`); a patient's reports are found from the latest score
/// (`latest_score`) and from the `ScoresAccepted` events. A chart holds fewer than 2³¹ records.
pub const FIRST_REPORT_ID: RecordId = 1 << 31;
/// SHA-256 of an (encrypted) off-chain document, or a commitment to one.
pub type ContentHash = [u8; 32];

/// An X25519 public encryption key (RFC 7748), published so that record data keys can be
/// wrapped for its owner (`ehr-envelope`). Never a secret.
pub type EncryptionKey = [u8; 32];

/// Longest accepted record locator, in bytes.
pub const MAX_LOCATOR_LEN: usize = 128;
/// Largest page any paginated query returns.
pub const MAX_PAGE_LIMIT: u32 = 50;

/// Locator schemes a record may use: IPFS, HTTPS, Arweave, S3 and the record vault's own
/// `vault://<sha256 of the envelope>`. Anything else (`file:`, `javascript:`, `data:`, …) is
/// refused, so a dApp that renders a locator never meets a local path or a script.
pub const LOCATOR_SCHEMES: [&[u8]; 5] = [b"ipfs", b"https", b"ar", b"s3", b"vault"];

/// What kind of provider an account is registered as. One role per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ProviderRole {
    /// A physician (the seed paper's "doctor").
    Doctor,
    /// A laboratory that delivers results.
    Lab,
    /// A pharmacy that reads and writes prescriptions.
    Pharmacy,
    /// An insurer (usually read-only, e.g. billing records).
    Insurer,
    /// An analytics service such as the AI risk oracle.
    Analytics,
    /// A compliance auditor: reviews emergency (break-glass) accesses (`review_emergency`).
    /// The role reads no records by itself; like anyone, it needs a patient's grant for that.
    Auditor,
}

impl ProviderRole {
    /// Every role, in declaration order.
    pub const ALL: [ProviderRole; 6] = [
        ProviderRole::Doctor,
        ProviderRole::Lab,
        ProviderRole::Pharmacy,
        ProviderRole::Insurer,
        ProviderRole::Analytics,
        ProviderRole::Auditor,
    ];
}

/// Whether a registered provider may currently act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum ProviderStatus {
    /// May be granted access and use its grants.
    Active,
    /// Suspended by the admin: every grant it holds stops working until reinstated.
    Suspended,
}

/// A provider as the registry knows it.
///
/// `suspended_at` was added in storage version 2: an entry written by the first release has
/// no such field and decodes with `suspended_at: None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct ProviderInfo {
    /// The provider's role.
    pub role: ProviderRole,
    /// Active or suspended.
    pub status: ProviderStatus,
    /// Block at which the admin registered it.
    pub registered_at: BlockNumber,
    /// Block of its latest suspension, kept after a reinstatement: grants given before it stay
    /// void until the patient grants again (`DenialReason::SuspendedSinceGrant`).
    pub suspended_at: Option<BlockNumber>,
}

impl ink::scale::Decode for ProviderInfo {
    fn decode<I: ink::scale::Input>(input: &mut I) -> Result<Self, ink::scale::Error> {
        let role = ProviderRole::decode(input)?;
        let status = ProviderStatus::decode(input)?;
        let registered_at = BlockNumber::decode(input)?;
        // A first-release entry ends here.
        let suspended_at =
            if input.remaining_len()? == Some(0) { None } else { Option::<BlockNumber>::decode(input)? };
        Ok(ProviderInfo { role, status, registered_at, suspended_at })
    }
}

impl ProviderInfo {
    /// Whether the provider is active (not suspended).
    pub fn is_active(&self) -> bool {
        self.status == ProviderStatus::Active
    }
}

/// Category of a medical record. This is metadata about the document type, never its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum RecordCategory {
    /// Clinical notes, discharge letters.
    ClinicalNote,
    /// Laboratory results.
    LabResult,
    /// Vital signs and measurements.
    Vitals,
    /// Prescriptions and medication statements.
    Medication,
    /// Problem list / diagnoses.
    Condition,
    /// Imaging studies and reports.
    Imaging,
    /// Immunization history.
    Immunization,
    /// Allergies and intolerances.
    Allergy,
    /// Claims and billing documents.
    Billing,
    /// A summary document such as a FHIR `Bundle` of the patient's chart.
    Summary,
    /// An explained risk score of the AI oracle: a sealed FHIR `RiskAssessment` report,
    /// anchored by the risk-scores contract when it accepts the score's attestation.
    RiskAssessment,
}

impl RecordCategory {
    /// Every category, in declaration order.
    pub const ALL: [RecordCategory; 11] = [
        RecordCategory::ClinicalNote,
        RecordCategory::LabResult,
        RecordCategory::Vitals,
        RecordCategory::Medication,
        RecordCategory::Condition,
        RecordCategory::Imaging,
        RecordCategory::Immunization,
        RecordCategory::Allergy,
        RecordCategory::Billing,
        RecordCategory::Summary,
        RecordCategory::RiskAssessment,
    ];

    /// The category's bit in a [`CategorySet`].
    pub const fn bit(self) -> u16 {
        1u16 << (self as u8)
    }
}

/// A set of record categories, as a bit set (bit `i` = `RecordCategory::ALL[i]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct CategorySet(pub u16);

impl CategorySet {
    /// Bits that correspond to a category.
    pub const VALID_BITS: u16 = (1u16 << RecordCategory::ALL.len()) - 1;

    /// The empty set.
    pub const fn empty() -> Self {
        CategorySet(0)
    }

    /// Every category.
    pub const fn all() -> Self {
        CategorySet(Self::VALID_BITS)
    }

    /// The set of the given categories.
    pub fn of(categories: &[RecordCategory]) -> Self {
        CategorySet(categories.iter().fold(0, |bits, c| bits | c.bit()))
    }

    /// Whether `category` is in the set.
    pub const fn contains(self, category: RecordCategory) -> bool {
        self.0 & category.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit names a category.
    pub const fn is_valid(self) -> bool {
        self.0 & !Self::VALID_BITS == 0
    }

    /// The categories in the set, in declaration order.
    pub fn categories(self) -> Vec<RecordCategory> {
        RecordCategory::ALL.into_iter().filter(|c| self.contains(*c)).collect()
    }
}

/// Whether an access reads records or adds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AccessMode {
    /// Read the patient's records (and fetch the off-chain documents).
    Read,
    /// Add new records to the patient's chart.
    Write,
}

/// What a grant allows: record categories the grantee may read and may write.
/// Write does not imply read (a lab may deliver results without seeing the chart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Scope {
    /// Categories the grantee may read.
    pub read: CategorySet,
    /// Categories the grantee may add records to.
    pub write: CategorySet,
}

impl Scope {
    /// Read access to the given categories.
    pub fn read(categories: &[RecordCategory]) -> Self {
        Scope { read: CategorySet::of(categories), write: CategorySet::empty() }
    }

    /// Read and write access to the given categories.
    pub fn read_write(categories: &[RecordCategory]) -> Self {
        let set = CategorySet::of(categories);
        Scope { read: set, write: set }
    }

    /// Whether the scope allows `mode` on `category`.
    pub const fn allows(&self, mode: AccessMode, category: RecordCategory) -> bool {
        match mode {
            AccessMode::Read => self.read.contains(category),
            AccessMode::Write => self.write.contains(category),
        }
    }

    /// The categories of `mode`.
    pub const fn categories(&self, mode: AccessMode) -> CategorySet {
        match mode {
            AccessMode::Read => self.read,
            AccessMode::Write => self.write,
        }
    }
}

/// A patient's consent for one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Grant {
    /// What the grantee may do.
    pub scope: Scope,
    /// Block at which the patient granted (or last re-granted) it.
    pub granted_at: BlockNumber,
    /// First block at which the grant no longer works; `None` = until revoked.
    pub expires_at: Option<BlockNumber>,
}

impl Grant {
    /// Whether the grant has expired at block `now`.
    pub fn is_expired(&self, now: BlockNumber) -> bool {
        self.expires_at.is_some_and(|expiry| now >= expiry)
    }
}

/// A registered patient. Holds no PHI: counters and an optional commitment only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Patient {
    /// Block of registration.
    pub registered_at: BlockNumber,
    /// Optional 32-byte commitment (e.g. a salted hash) to an off-chain profile.
    pub profile_commitment: Option<ContentHash>,
    /// Number of the chart's records anchored so far; their ids are `0..record_count`. The
    /// oracle's risk reports are not counted here (their ids start at [`FIRST_REPORT_ID`]).
    pub record_count: u32,
    /// Number of providers that currently hold a grant (expired ones included until revoked).
    pub grant_count: u32,
}

/// A hash-anchored medical record entry. The document itself lives off-chain, encrypted.
///
/// An erased record is a tombstone: `erased_at` is set and its locator is empty; its id,
/// category, author and envelope hash stay (the hash is of ciphertext whose keys were
/// destroyed). `erased_at` was added after the first two storage versions: an entry written
/// before decodes with `erased_at: None`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Record {
    /// Its id: per-patient sequence number of the chart, or a report's id (≥ [`FIRST_REPORT_ID`]).
    pub id: RecordId,
    /// Kind of document.
    pub category: RecordCategory,
    /// SHA-256 of the encrypted off-chain document.
    pub content_hash: ContentHash,
    /// Where the document can be fetched (`ipfs://…`, `https://…`, `file://…`), ≤ 128 bytes.
    pub locator: Vec<u8>,
    /// Account that added it: the patient or a provider holding a write grant.
    pub author: AccountId,
    /// Block at which it was anchored.
    pub added_at: BlockNumber,
    /// The record this one corrects, if any.
    pub supersedes: Option<RecordId>,
    /// The record that corrects this one, once there is one.
    pub superseded_by: Option<RecordId>,
    /// Block at which the patient erased it (`erase_record`), if it was.
    pub erased_at: Option<BlockNumber>,
}

impl ink::scale::Decode for Record {
    fn decode<I: ink::scale::Input>(input: &mut I) -> Result<Self, ink::scale::Error> {
        let id = RecordId::decode(input)?;
        let category = RecordCategory::decode(input)?;
        let content_hash = ContentHash::decode(input)?;
        let locator = Vec::<u8>::decode(input)?;
        let author = AccountId::decode(input)?;
        let added_at = BlockNumber::decode(input)?;
        let supersedes = Option::<RecordId>::decode(input)?;
        let superseded_by = Option::<RecordId>::decode(input)?;
        // An entry written before erasure existed ends here.
        let erased_at =
            if input.remaining_len()? == Some(0) { None } else { Option::<BlockNumber>::decode(input)? };
        Ok(Record {
            id,
            category,
            content_hash,
            locator,
            author,
            added_at,
            supersedes,
            superseded_by,
            erased_at,
        })
    }
}

impl Record {
    /// Whether the patient erased it.
    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }
}

/// Why an access attempt was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum DenialReason {
    /// The account is not a registered patient.
    PatientNotRegistered,
    /// The patient has not granted the caller access (seed: "Access Denied! You do not have permission").
    NoGrant,
    /// The caller's grant has expired.
    GrantExpired,
    /// The caller's grant does not cover this category and mode.
    OutOfScope,
    /// The caller is not registered as a provider.
    ProviderNotRegistered,
    /// The caller is a suspended provider.
    ProviderSuspended,
    /// The provider registry could not be asked; access fails closed.
    RegistryUnavailable,
    /// The provider was suspended after this grant was given. A reinstatement does not revive
    /// it: the patient must grant again.
    SuspendedSinceGrant,
    /// A provider may correct (supersede) only records it wrote itself; the patient may
    /// correct any.
    NotRecordAuthor,
    /// The accessor's provider role may not do this (e.g. a score signer bound to a Doctor).
    RoleNotPermitted,
}

impl DenialReason {
    /// Every reason, in declaration order.
    pub const ALL: [DenialReason; 10] = [
        DenialReason::PatientNotRegistered,
        DenialReason::NoGrant,
        DenialReason::GrantExpired,
        DenialReason::OutOfScope,
        DenialReason::ProviderNotRegistered,
        DenialReason::ProviderSuspended,
        DenialReason::RegistryUnavailable,
        DenialReason::SuspendedSinceGrant,
        DenialReason::NotRecordAuthor,
        DenialReason::RoleNotPermitted,
    ];
}

/// The outcome of an access decision. A denial is a successful, audited outcome, not a revert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AccessDecision {
    /// Access granted.
    Granted,
    /// Access denied, with the reason.
    #[codec(index = 1)]
    Denied(DenialReason),
}

impl AccessDecision {
    /// Whether access was granted.
    pub fn is_granted(&self) -> bool {
        matches!(self, AccessDecision::Granted)
    }
}

/// The outcome of `add_record`: the new record's id, or an audited denial of the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AddRecordOutcome {
    /// The record was anchored with this id.
    #[codec(index = 0)]
    Added(RecordId),
    /// The caller may not write this category for this patient (audited).
    #[codec(index = 1)]
    Denied(DenialReason),
    /// A provider's write was allowed but its input is invalid: nothing was anchored, and the
    /// attempt stays audited (a provider's `add_record` never reverts after its decision).
    #[codec(index = 2)]
    Rejected(RecordsError),
}

/// One page of a paginated query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct Page<T> {
    /// The items of this page (a page can hold fewer than `limit` items when some were filtered
    /// out by the caller's scope).
    pub items: Vec<T>,
    /// Where the next page starts, or `None` when this was the last one.
    pub next: Option<u32>,
}

/// Checks a record locator: non-empty, at most [`MAX_LOCATOR_LEN`] bytes, printable ASCII
/// without spaces, of the form `scheme://rest` with a scheme of [`LOCATOR_SCHEMES`].
pub fn check_locator(locator: &[u8]) -> Result<(), RecordsError> {
    if locator.is_empty() {
        return Err(RecordsError::LocatorEmpty);
    }
    if locator.len() > MAX_LOCATOR_LEN {
        return Err(RecordsError::LocatorTooLong);
    }
    if !locator.iter().all(|b| b.is_ascii_graphic()) {
        return Err(RecordsError::LocatorInvalid);
    }
    let scheme_end = locator.windows(3).position(|w| w == b"://").ok_or(RecordsError::LocatorInvalid)?;
    let (scheme, rest) = locator.split_at(scheme_end);
    if rest.len() <= 3 {
        return Err(RecordsError::LocatorInvalid);
    }
    if !LOCATOR_SCHEMES.contains(&scheme) {
        return Err(RecordsError::LocatorSchemeNotAllowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_bits_are_distinct_and_valid() {
        let all = CategorySet::of(&RecordCategory::ALL);
        assert_eq!(all, CategorySet::all());
        assert_eq!(all.categories(), RecordCategory::ALL.to_vec());
        assert!(all.is_valid());
        assert!(!CategorySet(1 << 11).is_valid());
        assert!(CategorySet::empty().is_empty());
    }

    #[test]
    fn scope_separates_read_and_write() {
        let scope = Scope {
            read: CategorySet::of(&[RecordCategory::LabResult]),
            write: CategorySet::of(&[RecordCategory::Vitals]),
        };
        assert!(scope.allows(AccessMode::Read, RecordCategory::LabResult));
        assert!(!scope.allows(AccessMode::Write, RecordCategory::LabResult));
        assert!(scope.allows(AccessMode::Write, RecordCategory::Vitals));
        assert!(!scope.allows(AccessMode::Read, RecordCategory::Vitals));
    }

    #[test]
    fn grant_expires_at_its_expiry_block() {
        let grant = Grant { scope: Scope::default(), granted_at: 1, expires_at: Some(10) };
        assert!(!grant.is_expired(9));
        assert!(grant.is_expired(10));
        let forever = Grant { expires_at: None, ..grant };
        assert!(!forever.is_expired(u32::MAX));
    }

    #[test]
    fn first_release_provider_entries_decode_without_suspension() {
        use ink::scale::{DecodeAll, Encode};
        let v1 = (ProviderRole::Lab, ProviderStatus::Active, 7u32).encode();
        let info = ProviderInfo::decode_all(&mut &v1[..]).unwrap();
        assert_eq!(info.suspended_at, None);
        assert_eq!(info.registered_at, 7);
        let v2 = ProviderInfo { suspended_at: Some(9), ..info };
        assert_eq!(ProviderInfo::decode_all(&mut &v2.encode()[..]), Ok(v2));
        assert_eq!(Some(v2).encode().len(), 1 + 1 + 1 + 4 + 5);
        assert_eq!(Option::<ProviderInfo>::decode_all(&mut &Some(v2).encode()[..]), Ok(Some(v2)));
    }

    #[test]
    fn records_written_before_erasure_decode_as_not_erased() {
        use ink::scale::{DecodeAll, Encode};
        let record = Record {
            id: 3,
            category: RecordCategory::LabResult,
            content_hash: [7; 32],
            locator: b"vault://ab".to_vec(),
            author: AccountId::from([1; 32]),
            added_at: 9,
            supersedes: Some(1),
            superseded_by: None,
            erased_at: None,
        };
        let mut before = record.encode();
        before.truncate(before.len() - 1);
        assert_eq!(Record::decode_all(&mut &before[..]), Ok(record.clone()));
        let erased = Record { erased_at: Some(12), locator: Vec::new(), ..record };
        assert_eq!(Record::decode_all(&mut &erased.encode()[..]), Ok(erased.clone()));
        let page = vec![erased.clone(), erased];
        assert_eq!(Vec::<Record>::decode_all(&mut &page.encode()[..]), Ok(page));
    }

    #[test]
    fn locators_are_checked() {
        assert_eq!(check_locator(b"ipfs://bafybeigdyrzt5"), Ok(()));
        assert_eq!(check_locator(b"https://ehr.example/doc/1"), Ok(()));
        assert_eq!(check_locator(b"vault://ab12"), Ok(()));
        assert_eq!(check_locator(b"ar://tx"), Ok(()));
        assert_eq!(check_locator(b"s3://bucket/key"), Ok(()));
        for refused in [&b"file:///etc/passwd"[..], b"javascript://x%0Aalert(1)", b"data://text", b"http://x"]
        {
            assert_eq!(check_locator(refused), Err(RecordsError::LocatorSchemeNotAllowed), "{refused:?}");
        }
        assert_eq!(check_locator(b""), Err(RecordsError::LocatorEmpty));
        assert_eq!(check_locator(&[b'a'; 129]), Err(RecordsError::LocatorTooLong));
        let mut max = b"ipfs://".to_vec();
        max.resize(MAX_LOCATOR_LEN, b'x');
        assert_eq!(check_locator(&max), Ok(()));
        for bad in [&b"no-scheme"[..], b"ipfs:// x", b"://", b"ipfs://", b"ipfs\n://x"] {
            assert_eq!(check_locator(bad), Err(RecordsError::LocatorInvalid), "{bad:?}");
        }
        for unknown in [&b"IPFS://x"[..], b"://x", b"1p://x"] {
            assert_eq!(check_locator(unknown), Err(RecordsError::LocatorSchemeNotAllowed), "{unknown:?}");
        }
    }
}
