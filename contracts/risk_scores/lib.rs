#![cfg_attr(not(feature = "std"), no_std, no_main)]

//! # Risk scores
//!
//! Receives the AI oracle's ed25519-signed risk scores.
//!
//! - The admin (deployer) registers oracle signer keys, each bound to the oracle's on-chain
//!   account, and approves model hashes; either can be retired.
//! - `submit_scores` takes a batch of attestations under **one** signature over
//!   `SCORE_SIGNING_CONTEXT ‖ blake2b-256(SCALE(batch))`: the contract hashes the batch with the
//!   chain's hash host function and verifies once, so the verifier's cost does not grow with the
//!   batch. Each attestation must be for this contract and chain, for an approved model, carry a
//!   nonce above the signer's last, and its input must be a record of the patient anchored in
//!   the records contract that the oracle's account may read: the records contract checks the
//!   whole batch in one cross-contract call.
//! - **Sealed scores.** An attestation carries no risk: a commitment to the result
//!   (`SHA-256(context ‖ salt ‖ SCALE(risk, band))`) and the hash of the sealed report (an
//!   encrypted FHIR `RiskAssessment` in the record vault, readable by the patient and the
//!   providers the patient lets read `RiskAssessment` records). Accepting a batch anchors each
//!   report in the patient's chart, in the same call (`ReportAnchor::anchor_reports` on the
//!   records contract). Accepted scores are stored as the patient's latest per model (the
//!   newest by `computed_at`, ties by signer key then nonce; an older one never replaces it)
//!   and announced by one `ScoresAccepted` event per batch: no risk or band in storage, events
//!   or call data (storage holds the commitment; events and call data hashes and ids).
//! - A refusal after the signature verified is kept on chain: the nonce is consumed and
//!   `ScoreRefused` says why, so a refused attestation can never be landed later. A nonce may
//!   step at most `MAX_NONCE_STEP` (2^48) above the last, so no attestation ends a signer.
//! - The key's bound account must be an active `Analytics` provider when the batch lands.
//! - **Audit alerts.** The oracle's signers also post the audit analytics' alerts
//!   (`submit_alerts`: accessor, window, score bucket, reason codes; one signature per batch,
//!   nonces of their own); an active `Auditor` of the provider registry acknowledges them
//!   (`acknowledge_alert`).
//! - The admin hands over in two steps (`propose_admin`, `accept_admin`) and schedules
//!   time-locked upgrades (`Upgradeable`).

#[ink::contract]
mod risk_scores {
    use ed25519_dalek::{Signature as Ed25519Signature, VerifyingKey};
    use ehr_types::{
        alerts::{AlertBatch, AlertId, StoredAlert, MAX_ALERTS},
        api::{
            upgrade, ConsentCheck, MigrationStatus, ProviderDirectory, ReportAnchor, UpgradeError,
            UpgradeState, Upgradeable,
        },
        events::{
            AcceptedScore, AdminTransferProposed, AdminTransferred, AlertAcknowledged, AlertRaised,
            LegacyScoresPurged, ModelApproved, ModelRetired, ScoreRefused, ScoresAccepted, SignerAdded,
            SignerRetired,
        },
        scores::{
            AttestationBatch, InputCheck, LegacyScore, Signature, SignerInfo, SignerKey, StoredScore,
            MAX_BATCH, MAX_CLOCK_SKEW_MS, MAX_NONCE_STEP, MAX_PURGE,
        },
        AccessDecision, AccessMode, ContentHash, DenialReason, Page, ProviderInfo, ProviderRole,
        RecordCategory, RecordId, RecordsError, ScoreError, MAX_PAGE_LIMIT,
    };
    use ink::{
        codegen::TraitCallBuilder,
        contract_ref,
        prelude::{collections::BTreeMap, vec::Vec},
        storage::{Lazy, Mapping},
    };

    /// Result of the risk-scores contract's messages.
    pub type Result<T> = core::result::Result<T, ScoreError>;

    /// Version of this code's storage layout (1: the first release; 3: sealed scores; 4: audit
    /// alerts).
    pub const STORAGE_VERSION: u16 = 4;

    /// Risk-scores storage. The root fields keep the first release's order; later fields live
    /// in cells of their own.
    #[ink(storage)]
    pub struct RiskScores {
        /// Manages signers and models.
        admin: AccountId,
        /// The patient records contract asked for anchors and consent.
        records: AccountId,
        /// Genesis hash of the chain, part of every attestation's domain.
        chain: [u8; 32],
        /// Registered signer keys.
        signers: Mapping<SignerKey, SignerInfo>,
        /// Model hashes: `true` approved, `false` retired.
        models: Mapping<ContentHash, bool>,
        /// Scores with the risk in the clear, as storage versions 1–2 kept them: never written
        /// or read since version 3, only deleted (`purge_legacy_scores`).
        scores: Mapping<(AccountId, ContentHash), LegacyScore>,
        /// The account proposed as the next admin, until it accepts.
        pending_admin: Lazy<Option<AccountId>>,
        /// Storage version, time-lock and scheduled upgrade.
        upgrades: Lazy<UpgradeState>,
        /// Latest accepted (sealed) score by (patient, model hash), since storage version 3.
        sealed_scores: Mapping<(AccountId, ContentHash), StoredScore>,
        /// Audit alerts by id (storage version 4).
        alerts: Mapping<AlertId, StoredAlert>,
        /// Number of alerts raised: the next one's id.
        alert_count: Lazy<AlertId>,
        /// Each signer's last accepted alert batch nonce.
        alert_nonces: Mapping<SignerKey, u64>,
    }

    impl RiskScores {
        /// Creates the contract for the chain with genesis hash `chain`, wired to the records
        /// contract at `records`. The caller becomes the admin. `upgrade_delay` is the
        /// time-lock, in blocks, of this contract's upgrades.
        #[ink(constructor)]
        pub fn new(records: AccountId, chain: [u8; 32], upgrade_delay: BlockNumber) -> Self {
            let mut upgrades = Lazy::new();
            upgrades.set(&UpgradeState::new(STORAGE_VERSION, upgrade_delay));
            Self {
                admin: Self::env().caller(),
                records,
                chain,
                signers: Mapping::default(),
                models: Mapping::default(),
                scores: Mapping::default(),
                pending_admin: Lazy::new(),
                upgrades,
                sealed_scores: Mapping::default(),
                alerts: Mapping::default(),
                alert_count: Lazy::new(),
                alert_nonces: Mapping::default(),
            }
        }

        /// Registers an oracle signer key bound to the oracle's account (which must be an
        /// active `Analytics` provider whenever its batches land). Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `SignerAlreadyRegistered` (also for a retired key: keys are never reused).
        #[ink(message)]
        pub fn add_signer(&mut self, signer: SignerKey, account: AccountId) -> Result<()> {
            self.ensure_admin()?;
            if self.signers.contains(signer) {
                return Err(ScoreError::SignerAlreadyRegistered);
            }
            self.signers.insert(signer, &SignerInfo { account, last_nonce: 0, retired: false });
            self.env().emit_event(SignerAdded { account, signer });
            Ok(())
        }

        /// Retires a signer key for good. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `UnknownSigner`; `SignerRetired`.
        #[ink(message)]
        pub fn retire_signer(&mut self, signer: SignerKey) -> Result<()> {
            self.ensure_admin()?;
            let mut info = self.signers.get(signer).ok_or(ScoreError::UnknownSigner)?;
            if info.retired {
                return Err(ScoreError::SignerRetired);
            }
            info.retired = true;
            self.signers.insert(signer, &info);
            self.env().emit_event(SignerRetired { signer });
            Ok(())
        }

        /// Approves a model by the hash of its canonical parameters. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `ModelAlreadyApproved`.
        #[ink(message)]
        pub fn approve_model(&mut self, model_hash: ContentHash) -> Result<()> {
            self.ensure_admin()?;
            if self.models.get(model_hash) == Some(true) {
                return Err(ScoreError::ModelAlreadyApproved);
            }
            self.models.insert(model_hash, &true);
            self.env().emit_event(ModelApproved { model_hash });
            Ok(())
        }

        /// Retires an approved model: its scores are refused from now on. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `ModelNotApproved`.
        #[ink(message)]
        pub fn retire_model(&mut self, model_hash: ContentHash) -> Result<()> {
            self.ensure_admin()?;
            if self.models.get(model_hash) != Some(true) {
                return Err(ScoreError::ModelNotApproved);
            }
            self.models.insert(model_hash, &false);
            self.env().emit_event(ModelRetired { model_hash });
            Ok(())
        }

        /// Submits a batch holding exactly one attestation. The batch-level refusals are the
        /// call's error (nothing is consumed); the attestation's own outcome is `Ok(outcome)`,
        /// so a refusal is kept on chain with its nonce consumed, exactly as in
        /// `submit_scores`.
        ///
        /// # Errors
        /// `BatchTooLarge` (more than one attestation) and the batch-level errors of
        /// `submit_scores`.
        #[ink(message)]
        pub fn submit_score(
            &mut self,
            batch: AttestationBatch,
            signature: Signature,
        ) -> Result<core::result::Result<(), ScoreError>> {
            if batch.attestations.len() > 1 {
                return Err(ScoreError::BatchTooLarge);
            }
            let outcomes = self.submit_scores(batch, signature)?;
            Ok(outcomes.into_iter().next().unwrap_or(Err(ScoreError::EmptyBatch)))
        }

        /// Submits a signed batch of up to 128 attestations. The batch as a whole fails
        /// (`Err`, nothing consumed) when it is empty, too large, from an unknown or retired
        /// signer, or badly signed, or when the records contract cannot be asked or refuses to
        /// anchor reports for this contract; otherwise each attestation gets its own outcome,
        /// in order, and every refusal that consumed its nonce is kept on chain with a
        /// `ScoreRefused` event.
        ///
        /// Per attestation, in this order: `WrongDomain`; `StaleNonce` (not above the signer's
        /// last; nothing consumed); `NonceTooFar` (more than 2^48 above it; nothing consumed);
        /// from here on the nonce is consumed, accepted or not: `ComputedInFuture` (more than
        /// 10 minutes after the block's time); `ModelNotApproved`; `InputNotAnchored`;
        /// `InputSuperseded`; `InputErased`; `NoConsent(reason)` (including `RoleNotPermitted`
        /// when the key's account is not an `Analytics` provider, `ProviderSuspended`,
        /// `SuspendedSinceGrant`); `OlderThanLatest`; `ReportNotAnchored`.
        ///
        /// An accepted attestation's sealed report is anchored in the patient's chart as a
        /// `RiskAssessment` record authored by the oracle's account, in this same call (one
        /// call to the records contract for the batch); the score is stored as its commitment,
        /// report hash and record id, and the batch's accepted scores are announced by one
        /// `ScoresAccepted` event (after the `ScoreRefused` events of its refusals). No risk or
        /// band is ever seen by the contract.
        ///
        /// # Errors
        /// `EmptyBatch`; `BatchTooLarge`; `UnknownSigner`; `SignerRetired`; `BadSignature`;
        /// `RecordsUnavailable`; `ReportNotAnchored` (this contract is not the records
        /// contract's score contract).
        #[ink(message)]
        pub fn submit_scores(
            &mut self,
            batch: AttestationBatch,
            signature: Signature,
        ) -> Result<Vec<core::result::Result<(), ScoreError>>> {
            if batch.attestations.is_empty() {
                return Err(ScoreError::EmptyBatch);
            }
            if batch.attestations.len() > MAX_BATCH as usize {
                return Err(ScoreError::BatchTooLarge);
            }
            let mut signer = self.signers.get(batch.signer).ok_or(ScoreError::UnknownSigner)?;
            if signer.retired {
                return Err(ScoreError::SignerRetired);
            }
            let key = VerifyingKey::from_bytes(&batch.signer).map_err(|_| ScoreError::BadSignature)?;
            key.verify_strict(&batch.signing_message(), &Ed25519Signature::from_bytes(&signature))
                .map_err(|_| ScoreError::BadSignature)?;

            let domain_ok = batch.contract == self.env().account_id() && batch.chain == self.chain;
            let latest_time = self.env().block_timestamp().saturating_add(MAX_CLOCK_SKEW_MS);
            // Batches are usually of one model: ask storage once per distinct run of hashes.
            let mut model_cache: Option<(ContentHash, bool)> = None;
            // Checks that need no other contract, in order; nonces are consumed here.
            let mut outcomes: Vec<core::result::Result<(), ScoreError>> = batch
                .attestations
                .iter()
                .map(|a| {
                    if !domain_ok {
                        return Err(ScoreError::WrongDomain);
                    }
                    if a.nonce <= signer.last_nonce {
                        return Err(ScoreError::StaleNonce);
                    }
                    if a.nonce.saturating_sub(signer.last_nonce) > MAX_NONCE_STEP {
                        return Err(ScoreError::NonceTooFar);
                    }
                    signer.last_nonce = a.nonce;
                    if a.computed_at > latest_time {
                        return Err(ScoreError::ComputedInFuture);
                    }
                    let approved = match model_cache {
                        Some((hash, approved)) if hash == a.model_hash => approved,
                        _ => {
                            let approved = self.models.get(a.model_hash) == Some(true);
                            model_cache = Some((a.model_hash, approved));
                            approved
                        }
                    };
                    if !approved {
                        return Err(ScoreError::ModelNotApproved);
                    }
                    Ok(())
                })
                .collect();

            // Anchors and consent of the remaining ones, in one call to the records contract.
            let pending: Vec<(AccountId, ContentHash)> = batch
                .attestations
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| outcome.is_ok())
                .map(|(a, _)| (a.patient, a.input_hash))
                .collect();
            if !pending.is_empty() {
                let checks = self.check_inputs(signer.account, pending)?;
                let mut checks = checks.into_iter();
                for outcome in outcomes.iter_mut().filter(|o| o.is_ok()) {
                    *outcome = match checks.next() {
                        Some(InputCheck::Ok) => Ok(()),
                        Some(InputCheck::NotAnchored) => Err(ScoreError::InputNotAnchored),
                        Some(InputCheck::Superseded) => Err(ScoreError::InputSuperseded),
                        Some(InputCheck::Erased) => Err(ScoreError::InputErased),
                        Some(InputCheck::Denied(reason)) => Err(ScoreError::NoConsent(reason)),
                        None => Err(ScoreError::RecordsUnavailable),
                    };
                }
            }

            // Only a score newer than the latest (stored, or accepted earlier in this batch)
            // replaces it; the others are refused before their reports are anchored.
            let mut newest: BTreeMap<(AccountId, ContentHash), (u64, SignerKey, u64)> = BTreeMap::new();
            for (a, outcome) in batch.attestations.iter().zip(outcomes.iter_mut()) {
                if outcome.is_err() {
                    continue;
                }
                let key = (a.patient, a.model_hash);
                let recency = (a.computed_at, batch.signer, a.nonce);
                let latest = match newest.get(&key) {
                    Some(latest) => Some(*latest),
                    None => self.sealed_scores.get(key).map(|s| s.recency()),
                };
                if latest.is_some_and(|latest| latest >= recency) {
                    *outcome = Err(ScoreError::OlderThanLatest);
                } else {
                    newest.insert(key, recency);
                }
            }

            // The reports of the accepted ones, anchored in one call to the records contract.
            let reports: Vec<(AccountId, ContentHash)> = batch
                .attestations
                .iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| outcome.is_ok())
                .map(|(a, _)| (a.patient, a.report_hash))
                .collect();
            let mut anchored = if reports.is_empty() {
                Vec::new().into_iter()
            } else {
                self.anchor_reports(signer.account, reports)?.into_iter()
            };
            let now = self.env().block_number();
            let mut accepted = Vec::new();
            for (a, outcome) in batch.attestations.iter().zip(outcomes.iter_mut()) {
                if outcome.is_ok() {
                    match anchored.next() {
                        Some(Ok(report_record)) => {
                            let score = StoredScore {
                                commitment: a.commitment,
                                report_hash: a.report_hash,
                                report_record,
                                input_hash: a.input_hash,
                                computed_at: a.computed_at,
                                signer: batch.signer,
                                nonce: a.nonce,
                                accepted_at: now,
                            };
                            self.sealed_scores.insert((a.patient, a.model_hash), &score);
                            accepted.push(AcceptedScore {
                                patient: a.patient,
                                model_hash: a.model_hash,
                                input_hash: a.input_hash,
                                nonce: a.nonce,
                                report_record,
                            });
                        }
                        _ => *outcome = Err(ScoreError::ReportNotAnchored),
                    }
                }
                if let Err(reason) = *outcome {
                    if reason.consumes_nonce() {
                        self.env().emit_event(ScoreRefused { signer: batch.signer, nonce: a.nonce, reason });
                    }
                }
            }
            if !accepted.is_empty() {
                self.env().emit_event(ScoresAccepted { signer: batch.signer, scores: accepted });
            }
            self.signers.insert(batch.signer, &signer);
            Ok(outcomes)
        }

        /// Raises the audit analytics' alerts of a signed batch: up to 64 alerts under one
        /// signature of a registered, unretired oracle signer, for this contract and chain, with
        /// a nonce above the signer's last alert batch. Anyone may relay it. Each alert is
        /// stored under the next id and announced by `AlertRaised`. Returns the first id.
        ///
        /// The signer's bound account must be an active `Analytics` provider, as for scores.
        ///
        /// # Errors
        /// `EmptyBatch`; `BatchTooLarge`; `UnknownSigner`; `SignerRetired`; `BadSignature`;
        /// `WrongDomain`; `StaleNonce`; `NonceTooFar` (more than `MAX_NONCE_STEP` above the
        /// last); `NoConsent(reason)` (the bound account is not an active `Analytics` provider:
        /// `ProviderNotRegistered`, `ProviderSuspended`, `RoleNotPermitted`);
        /// `RegistryUnavailable`; `InvalidAlert` (nothing is raised); `Overflow`.
        #[ink(message)]
        pub fn submit_alerts(&mut self, batch: AlertBatch, signature: Signature) -> Result<AlertId> {
            if batch.alerts.is_empty() {
                return Err(ScoreError::EmptyBatch);
            }
            if batch.alerts.len() > MAX_ALERTS as usize {
                return Err(ScoreError::BatchTooLarge);
            }
            let signer = self.signers.get(batch.signer).ok_or(ScoreError::UnknownSigner)?;
            if signer.retired {
                return Err(ScoreError::SignerRetired);
            }
            let key = VerifyingKey::from_bytes(&batch.signer).map_err(|_| ScoreError::BadSignature)?;
            key.verify_strict(&batch.signing_message(), &Ed25519Signature::from_bytes(&signature))
                .map_err(|_| ScoreError::BadSignature)?;
            if batch.contract != self.env().account_id() || batch.chain != self.chain {
                return Err(ScoreError::WrongDomain);
            }
            let last = self.alert_nonces.get(batch.signer).unwrap_or(0);
            if batch.nonce <= last {
                return Err(ScoreError::StaleNonce);
            }
            if batch.nonce.saturating_sub(last) > MAX_NONCE_STEP {
                return Err(ScoreError::NonceTooFar);
            }
            match self.registry_provider(signer.account)? {
                Some(info) if info.role == ProviderRole::Analytics && info.is_active() => {}
                Some(info) if info.role == ProviderRole::Analytics => {
                    return Err(ScoreError::NoConsent(DenialReason::ProviderSuspended))
                }
                Some(_) => return Err(ScoreError::NoConsent(DenialReason::RoleNotPermitted)),
                None => return Err(ScoreError::NoConsent(DenialReason::ProviderNotRegistered)),
            }
            if !batch.alerts.iter().all(|alert| alert.is_valid()) {
                return Err(ScoreError::InvalidAlert);
            }
            let first = self.alert_count.get().unwrap_or(0);
            let count = u32::try_from(batch.alerts.len()).map_err(|_| ScoreError::BatchTooLarge)?;
            let next = first.checked_add(count).ok_or(ScoreError::Overflow)?;
            let raised_at = self.env().block_number();
            for (id, alert) in (first..next).zip(batch.alerts) {
                self.alerts
                    .insert(id, &StoredAlert { alert, signer: batch.signer, raised_at, acknowledged: None });
                self.env().emit_event(AlertRaised {
                    id,
                    accessor: alert.accessor,
                    window_start_ms: alert.window_start_ms,
                    window_end_ms: alert.window_end_ms,
                    score_bucket: alert.score_bucket,
                    reasons: alert.reasons,
                    signer: batch.signer,
                });
            }
            self.alert_count.set(&next);
            self.alert_nonces.insert(batch.signer, &batch.nonce);
            Ok(first)
        }

        /// Acknowledges alert `id`: the caller, an active `Auditor` of the provider registry,
        /// has seen it. Once. Emits `AlertAcknowledged`.
        ///
        /// # Errors
        /// `AlertNotFound`; `NotAuditor`; `ProviderSuspended` (a suspended Auditor);
        /// `RegistryUnavailable`; `AlreadyAcknowledged`.
        #[ink(message)]
        pub fn acknowledge_alert(&mut self, id: AlertId) -> Result<()> {
            let mut stored = self.alerts.get(id).ok_or(ScoreError::AlertNotFound)?;
            let auditor = self.env().caller();
            match self.registry_provider(auditor)? {
                Some(info) if info.role == ProviderRole::Auditor => {
                    if !info.is_active() {
                        return Err(ScoreError::ProviderSuspended);
                    }
                }
                _ => return Err(ScoreError::NotAuditor),
            }
            if stored.acknowledged.is_some() {
                return Err(ScoreError::AlreadyAcknowledged);
            }
            stored.acknowledged = Some((auditor, self.env().block_number()));
            self.alerts.insert(id, &stored);
            self.env().emit_event(AlertAcknowledged { id, auditor });
            Ok(())
        }

        /// Alert `id`, if raised. Alerts are public chain state.
        #[ink(message)]
        pub fn alert(&self, id: AlertId) -> Option<StoredAlert> {
            self.alerts.get(id)
        }

        /// The nonce of `signer`'s last accepted alert batch (0: none yet); the next batch
        /// must carry a higher one.
        #[ink(message)]
        pub fn alert_nonce(&self, signer: SignerKey) -> u64 {
            self.alert_nonces.get(signer).unwrap_or(0)
        }

        /// Number of alerts raised so far (ids `0..count`).
        #[ink(message)]
        pub fn alert_count(&self) -> AlertId {
            self.alert_count.get().unwrap_or(0)
        }

        /// One page of alerts from id `from`, at most `limit` (1–50) ids scanned; with
        /// `unacknowledged_only`, the unacknowledged ones only (an Auditor's work list).
        ///
        /// # Errors
        /// `InvalidPageLimit`.
        #[ink(message)]
        pub fn alerts(
            &self,
            from: AlertId,
            limit: u32,
            unacknowledged_only: bool,
        ) -> Result<Page<(AlertId, StoredAlert)>> {
            if limit == 0 || limit > MAX_PAGE_LIMIT {
                return Err(ScoreError::InvalidPageLimit);
            }
            let count = self.alert_count.get().unwrap_or(0);
            let end = from.saturating_add(limit).min(count);
            let items = (from..end)
                .filter_map(|id| self.alerts.get(id).map(|alert| (id, alert)))
                .filter(|(_, stored)| !unacknowledged_only || stored.acknowledged.is_none())
                .collect();
            let next = (end < count).then_some(end);
            Ok(Page { items, next })
        }

        /// Deletes scores stored in the clear by storage versions 1–2, by their
        /// `(patient, model hash)` keys (the `ScoreAccepted` events of those versions name
        /// them); returns how many of the given keys held one. Anyone may call it: it only
        /// removes data. Emits `LegacyScoresPurged` when it deleted any.
        ///
        /// # Errors
        /// `TooManyKeys` for more than `MAX_PURGE` (64) keys.
        #[ink(message)]
        pub fn purge_legacy_scores(&mut self, keys: Vec<(AccountId, ContentHash)>) -> Result<u32> {
            if keys.len() > MAX_PURGE as usize {
                return Err(ScoreError::TooManyKeys);
            }
            let mut count = 0u32;
            for key in keys {
                if self.scores.contains(key) {
                    self.scores.remove(key);
                    count = count.saturating_add(1);
                }
            }
            if count > 0 {
                self.env().emit_event(LegacyScoresPurged { count });
            }
            Ok(count)
        }

        /// The patient's latest accepted score for a model: its commitment, its report's hash
        /// and record, never the risk. Readable by the patient and by accounts the patient lets
        /// read its `RiskAssessment` records (who then open the report in the vault).
        ///
        /// # Errors
        /// `NoConsent(reason)`; `RecordsUnavailable`.
        #[ink(message)]
        pub fn latest_score(
            &self,
            patient: AccountId,
            model_hash: ContentHash,
        ) -> Result<Option<StoredScore>> {
            let caller = self.env().caller();
            if caller != patient {
                match self.access_decision(patient, caller)? {
                    AccessDecision::Granted => {}
                    AccessDecision::Denied(reason) => return Err(ScoreError::NoConsent(reason)),
                }
            }
            Ok(self.sealed_scores.get((patient, model_hash)))
        }

        /// A registered signer.
        #[ink(message)]
        pub fn signer(&self, signer: SignerKey) -> Option<SignerInfo> {
            self.signers.get(signer)
        }

        /// Whether a model hash is approved (and not retired).
        #[ink(message)]
        pub fn is_model_approved(&self, model_hash: ContentHash) -> bool {
            self.models.get(model_hash) == Some(true)
        }

        /// The admin.
        #[ink(message)]
        pub fn admin(&self) -> AccountId {
            self.admin
        }

        /// The proposed next admin, if any.
        #[ink(message)]
        pub fn pending_admin(&self) -> Option<AccountId> {
            self.pending_admin.get().flatten()
        }

        /// Proposes `candidate` as the next admin; it becomes admin when it calls
        /// `accept_admin`. Replaces any earlier proposal. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `AlreadyAdmin` when `candidate` is the admin.
        #[ink(message)]
        pub fn propose_admin(&mut self, candidate: AccountId) -> Result<()> {
            self.ensure_admin()?;
            if candidate == self.admin {
                return Err(ScoreError::AlreadyAdmin);
            }
            self.pending_admin.set(&Some(candidate));
            self.env().emit_event(AdminTransferProposed { admin: self.admin, candidate: Some(candidate) });
            Ok(())
        }

        /// Cancels the pending admin proposal. Admin only.
        ///
        /// # Errors
        /// `NotAdmin`; `NoPendingAdmin`.
        #[ink(message)]
        pub fn cancel_admin_proposal(&mut self) -> Result<()> {
            self.ensure_admin()?;
            if self.pending_admin().is_none() {
                return Err(ScoreError::NoPendingAdmin);
            }
            self.pending_admin.set(&None);
            self.env().emit_event(AdminTransferProposed { admin: self.admin, candidate: None });
            Ok(())
        }

        /// Accepts a pending admin proposal. Only the proposed account may call it.
        ///
        /// # Errors
        /// `NoPendingAdmin`; `NotPendingAdmin` when the caller is not the candidate.
        #[ink(message)]
        pub fn accept_admin(&mut self) -> Result<()> {
            let candidate = self.pending_admin().ok_or(ScoreError::NoPendingAdmin)?;
            if self.env().caller() != candidate {
                return Err(ScoreError::NotPendingAdmin);
            }
            let previous = core::mem::replace(&mut self.admin, candidate);
            self.pending_admin.set(&None);
            self.env().emit_event(AdminTransferred { previous, admin: candidate });
            Ok(())
        }

        /// The records contract and the chain's genesis hash this contract checks against.
        #[ink(message)]
        pub fn domain(&self) -> (AccountId, AccountId, [u8; 32]) {
            (self.env().account_id(), self.records, self.chain)
        }

        /// What the provider registry (the records contract's) says about `account`: two typed
        /// calls, the records contract for the registry's address, then the registry.
        ///
        /// # Errors
        /// `RegistryUnavailable` when either cannot be asked.
        fn registry_provider(&self, account: AccountId) -> Result<Option<ProviderInfo>> {
            let records: contract_ref!(ConsentCheck) = self.records.into();
            let registry = match records.call().provider_registry().try_invoke() {
                Ok(Ok(registry)) => registry,
                _ => return Err(ScoreError::RegistryUnavailable),
            };
            let registry: contract_ref!(ProviderDirectory) = registry.into();
            match registry.call().provider(account).try_invoke() {
                Ok(Ok(info)) => Ok(info),
                _ => Err(ScoreError::RegistryUnavailable),
            }
        }

        fn ensure_admin(&self) -> Result<()> {
            if self.env().caller() == self.admin {
                Ok(())
            } else {
                Err(ScoreError::NotAdmin)
            }
        }

        /// Asks the records contract whether each input is an anchored, current record the
        /// signer's account, as an `Analytics` provider, may read (one typed call per batch).
        fn check_inputs(
            &self,
            accessor: AccountId,
            items: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<InputCheck>> {
            let records: contract_ref!(ConsentCheck) = self.records.into();
            match records.call().check_inputs(accessor, ProviderRole::Analytics, items).try_invoke() {
                Ok(Ok(Ok(checks))) => Ok(checks),
                _ => Err(ScoreError::RecordsUnavailable),
            }
        }

        /// Anchors the accepted scores' reports as `RiskAssessment` records authored by the
        /// oracle's account (one typed call per batch); one outcome per report.
        fn anchor_reports(
            &self,
            author: AccountId,
            reports: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<core::result::Result<RecordId, RecordsError>>> {
            let mut records: contract_ref!(ReportAnchor) = self.records.into();
            match records.call_mut().anchor_reports(author, reports).try_invoke() {
                Ok(Ok(Ok(anchored))) => Ok(anchored),
                Ok(Ok(Err(_))) => Err(ScoreError::ReportNotAnchored),
                _ => Err(ScoreError::RecordsUnavailable),
            }
        }

        fn access_decision(&self, patient: AccountId, accessor: AccountId) -> Result<AccessDecision> {
            let records: contract_ref!(ConsentCheck) = self.records.into();
            match records
                .call()
                .access_decision(patient, accessor, RecordCategory::RiskAssessment, AccessMode::Read)
                .try_invoke()
            {
                Ok(Ok(decision)) => Ok(decision),
                _ => Err(ScoreError::RecordsUnavailable),
            }
        }
    }

    impl Upgradeable for RiskScores {
        /// The stored data's version (1: instantiated from the first release, not migrated),
        /// the time-lock in blocks and the scheduled upgrade, if any.
        #[ink(message)]
        fn upgrade_state(&self) -> UpgradeState {
            upgrade::state(&self.upgrades)
        }

        /// Schedules a switch to the uploaded code `code_hash`; returns the first block it can be
        /// applied. Admin only. Emits `UpgradeScheduled`.
        ///
        /// # Errors
        /// `NotGovernance`; `UpgradeAlreadyScheduled`.
        #[ink(message)]
        fn schedule_upgrade(&mut self, code_hash: Hash) -> core::result::Result<BlockNumber, UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::schedule(&mut self.upgrades, code_hash)
        }

        /// Cancels the scheduled upgrade. Admin only. Emits `UpgradeCancelled`.
        ///
        /// # Errors
        /// `NotGovernance`; `NoUpgradeScheduled`.
        #[ink(message)]
        fn cancel_upgrade(&mut self) -> core::result::Result<(), UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::cancel(&mut self.upgrades)
        }

        /// Applies the scheduled upgrade after its time-lock: switches the code and runs the new
        /// code's `migrate` in the same transaction. Admin only. Emits `UpgradeApplied`.
        ///
        /// # Errors
        /// `NotGovernance`; `NoUpgradeScheduled`; `TimeLocked(block)`; `CodeNotFound`;
        /// `NewCodeRefused` (the new code refused the storage: nothing changed).
        #[ink(message)]
        fn apply_upgrade(&mut self) -> core::result::Result<MigrationStatus, UpgradeError> {
            self.ensure_admin().map_err(|_| UpgradeError::NotGovernance)?;
            upgrade::apply(&mut self.upgrades)
        }

        /// Migrates the stored data to this code's storage version (anyone; idempotent).
        /// First release → 2: nothing to rewrite (scores, signers and models keep their
        /// layout; no admin transfer is pending). 1 or 2 → 3: scores are sealed from now on, in
        /// a new mapping; the clear-text scores of earlier versions are no longer readable
        /// through any message and are deleted by `purge_legacy_scores` (a mapping cannot be
        /// enumerated on chain, so their keys come from the old `ScoreAccepted` events).
        /// 3 → 4: nothing to rewrite (alerts start empty).
        ///
        /// # Errors
        /// `InvalidStepLimit` (limit not 1–64); `UnknownStorageVersion(v)` (a downgrade).
        #[ink(message)]
        fn migrate(&mut self, limit: u32) -> core::result::Result<MigrationStatus, UpgradeError> {
            upgrade::migrate(&mut self.upgrades, STORAGE_VERSION, limit)
        }
    }
}
