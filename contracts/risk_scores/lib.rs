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
//! - Accepted scores are stored as the patient's latest per model and announced by
//!   `ScoreAccepted`, which carries ids and hashes only.

#[ink::contract]
mod risk_scores {
    use ed25519_dalek::{Signature as Ed25519Signature, VerifyingKey};
    use ehr_types::{
        events::{ModelApproved, ModelRetired, ScoreAccepted, SignerAdded, SignerRetired},
        scores::{
            AttestationBatch, InputCheck, Signature, SignerInfo, SignerKey, StoredScore, MAX_BATCH, PPM,
        },
        AccessDecision, AccessMode, ContentHash, RecordCategory, RecordsError, ScoreError,
        CHECK_INPUTS_SELECTOR,
    };
    use ink::{
        env::{
            call::{build_call, ExecutionInput, Selector},
            DefaultEnvironment,
        },
        prelude::vec::Vec,
        storage::Mapping,
    };

    /// Result of the risk-scores contract's messages.
    pub type Result<T> = core::result::Result<T, ScoreError>;

    /// Selector of the records contract's `access_decision` message.
    const ACCESS_DECISION_SELECTOR: [u8; 4] = ink::selector_bytes!("access_decision");

    /// Risk-scores storage.
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
        /// Latest accepted score by (patient, model hash).
        scores: Mapping<(AccountId, ContentHash), StoredScore>,
    }

    impl RiskScores {
        /// Creates the contract for the chain with genesis hash `chain`, wired to the records
        /// contract at `records`. The caller becomes the admin.
        #[ink(constructor)]
        pub fn new(records: AccountId, chain: [u8; 32]) -> Self {
            Self {
                admin: Self::env().caller(),
                records,
                chain,
                signers: Mapping::default(),
                models: Mapping::default(),
                scores: Mapping::default(),
            }
        }

        /// Registers an oracle signer key bound to the oracle's account. Admin only.
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

        /// Submits a batch holding exactly one attestation; any refusal is the error.
        #[ink(message)]
        pub fn submit_score(&mut self, batch: AttestationBatch, signature: Signature) -> Result<()> {
            if batch.attestations.len() > 1 {
                return Err(ScoreError::BatchTooLarge);
            }
            let outcomes = self.submit_scores(batch, signature)?;
            outcomes.into_iter().next().unwrap_or(Err(ScoreError::EmptyBatch))
        }

        /// Submits a signed batch of up to 128 attestations. The batch as a whole fails
        /// (`Err`) when it is empty, too large, from an unknown or retired signer, or badly
        /// signed; otherwise each attestation gets its own outcome, in order. Every
        /// attestation with a fresh nonce consumes it, accepted or not, so a refused one cannot
        /// be replayed later.
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
                    signer.last_nonce = a.nonce;
                    if a.risk_ppm > PPM {
                        return Err(ScoreError::RiskOutOfRange);
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
                        Some(InputCheck::Denied(reason)) => Err(ScoreError::NoConsent(reason)),
                        None => Err(ScoreError::RecordsUnavailable),
                    };
                }
            }

            let now = self.env().block_number();
            for (a, _) in batch.attestations.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()) {
                let score = StoredScore {
                    risk_ppm: a.risk_ppm,
                    band: a.band,
                    input_hash: a.input_hash,
                    computed_at: a.computed_at,
                    signer: batch.signer,
                    nonce: a.nonce,
                    accepted_at: now,
                };
                self.scores.insert((a.patient, a.model_hash), &score);
                self.env().emit_event(ScoreAccepted {
                    patient: a.patient,
                    model_hash: a.model_hash,
                    input_hash: a.input_hash,
                    signer: batch.signer,
                    nonce: a.nonce,
                });
            }
            self.signers.insert(batch.signer, &signer);
            Ok(outcomes)
        }

        /// The patient's latest accepted score for a model. Readable by the patient and by
        /// accounts the patient lets read its `Summary` records (the scores summarise the chart).
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
            Ok(self.scores.get((patient, model_hash)))
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

        /// The records contract and the chain's genesis hash this contract checks against.
        #[ink(message)]
        pub fn domain(&self) -> (AccountId, AccountId, [u8; 32]) {
            (self.env().account_id(), self.records, self.chain)
        }

        fn ensure_admin(&self) -> Result<()> {
            if self.env().caller() == self.admin {
                Ok(())
            } else {
                Err(ScoreError::NotAdmin)
            }
        }

        fn check_inputs(
            &self,
            accessor: AccountId,
            items: Vec<(AccountId, ContentHash)>,
        ) -> Result<Vec<InputCheck>> {
            match build_call::<DefaultEnvironment>()
                .call(self.records)
                .exec_input(
                    ExecutionInput::new(Selector::new(CHECK_INPUTS_SELECTOR))
                        .push_arg(accessor)
                        .push_arg(items),
                )
                .returns::<core::result::Result<Vec<InputCheck>, RecordsError>>()
                .try_invoke()
            {
                Ok(Ok(Ok(checks))) => Ok(checks),
                _ => Err(ScoreError::RecordsUnavailable),
            }
        }

        fn access_decision(&self, patient: AccountId, accessor: AccountId) -> Result<AccessDecision> {
            build_call::<DefaultEnvironment>()
                .call(self.records)
                .exec_input(
                    ExecutionInput::new(Selector::new(ACCESS_DECISION_SELECTOR))
                        .push_arg(patient)
                        .push_arg(accessor)
                        .push_arg(RecordCategory::Summary)
                        .push_arg(AccessMode::Read),
                )
                .returns::<AccessDecision>()
                .try_invoke()
                .ok()
                .and_then(|r| r.ok())
                .ok_or(ScoreError::RecordsUnavailable)
        }
    }
}
