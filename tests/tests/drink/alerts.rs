//! Signed, PHI-free audit alerts on the risk-scores contract: one ed25519 signature per batch
//! by a registered oracle signer, nonces of their own, acknowledged once by an active Auditor.

use ed25519_dalek::SigningKey;
use ehr_sandbox::{
    ehr::{sign_alerts, SANDBOX_CHAIN},
    EhrEvent,
};
use ehr_types::{
    alerts::{AlertReason, AlertReasons, AuditAlert, MAX_ALERTS},
    events::*,
    ProviderRole, ScoreError,
};
use ink::primitives::AccountId;

use crate::{assert_err, assert_ok, scores::Fixture};

fn alert(accessor: AccountId, bucket: u8) -> AuditAlert {
    AuditAlert {
        accessor,
        window_start_ms: 1_700_000_000_000,
        window_end_ms: 1_700_604_800_000,
        score_bucket: bucket,
        reasons: AlertReasons::of(&[AlertReason::Outsiders, AlertReason::Change]),
    }
}

#[test]
fn a_signed_batch_raises_alerts_that_an_auditor_acknowledges_once() {
    let mut f = Fixture::new();
    let signer = f.signer();
    let (admin, doctor, lab, auditor, stranger) =
        (f.ehr.admin, f.ehr.doctor, f.ehr.lab, f.ehr.auditor, f.ehr.stranger);
    f.ehr.register_provider(admin, auditor, ProviderRole::Auditor).value.unwrap();

    let batch = f.ehr.alert_batch(signer, 1, vec![alert(doctor, 9), alert(lab, 4)]);
    let call = f.ehr.submit_alerts(stranger, &batch, sign_alerts(&f.key, &batch));
    let raised = |id, a: AuditAlert| {
        EhrEvent::AlertRaised(AlertRaised {
            id,
            accessor: a.accessor,
            window_start_ms: a.window_start_ms,
            window_end_ms: a.window_end_ms,
            score_bucket: a.score_bucket,
            reasons: a.reasons,
            signer,
        })
    };
    assert_ok(&call, 0, vec![raised(0, alert(doctor, 9)), raised(1, alert(lab, 4))]);
    // The accessor is a topic, so an indexer finds the alerts about an account.
    let to_topic = |a: AccountId| *AsRef::<[u8; 32]>::as_ref(&a);
    assert_eq!(call.raw_events[0].topics[1], to_topic(doctor));
    let stored = f.ehr.alert(0).unwrap();
    assert_eq!((stored.alert, stored.signer, stored.acknowledged), (alert(doctor, 9), signer, None));

    // The same batch again, or an older nonce: refused.
    assert_err(&f.ehr.submit_alerts(stranger, &batch, sign_alerts(&f.key, &batch)), ScoreError::StaleNonce);
    assert_eq!(f.ehr.alert_nonce(signer), 1);
    let next = f.ehr.alert_batch(signer, 2, vec![alert(doctor, 10)]);
    assert_eq!(f.ehr.submit_alerts(stranger, &next, sign_alerts(&f.key, &next)).value, Ok(2));

    // Only an active Auditor acknowledges, once.
    for caller in [doctor, stranger, admin, f.oracle] {
        assert_err(&f.ehr.acknowledge_alert(caller, 0), ScoreError::NotAuditor);
    }
    assert_err(&f.ehr.acknowledge_alert(auditor, 3), ScoreError::AlertNotFound);
    assert_ok(
        &f.ehr.acknowledge_alert(auditor, 0),
        (),
        vec![EhrEvent::AlertAcknowledged(AlertAcknowledged { id: 0, auditor })],
    );
    let block = f.ehr.chain.block_number();
    assert_eq!(f.ehr.alert(0).unwrap().acknowledged, Some((auditor, block)));
    assert_err(&f.ehr.acknowledge_alert(auditor, 0), ScoreError::AlreadyAcknowledged);
    f.ehr.suspend_provider(admin, auditor).value.unwrap();
    assert_err(&f.ehr.acknowledge_alert(auditor, 1), ScoreError::ProviderSuspended);

    // The Auditor's work list: the unacknowledged ones.
    let open: Vec<_> = f.ehr.alerts(0, 50, true).unwrap().items.into_iter().map(|(id, _)| id).collect();
    assert_eq!(open, vec![1, 2]);
    assert_eq!(f.ehr.alerts(0, 2, false).unwrap().next, Some(2));
    assert_eq!(f.ehr.alerts(0, 0, false), Err(ScoreError::InvalidPageLimit));
}

#[test]
fn alert_batches_are_checked_before_anything_is_raised() {
    let mut f = Fixture::new();
    let signer = f.signer();
    let (admin, doctor, stranger) = (f.ehr.admin, f.ehr.doctor, f.ehr.stranger);
    let submit = |f: &mut Fixture, batch: &ehr_types::alerts::AlertBatch, key: &SigningKey| {
        let signature = sign_alerts(key, batch);
        f.ehr.submit_alerts(stranger, batch, signature)
    };
    let key = f.key.clone();
    let empty = f.ehr.alert_batch(signer, 1, vec![]);
    assert_err(&submit(&mut f, &empty, &key), ScoreError::EmptyBatch);
    let many = vec![alert(doctor, 5); MAX_ALERTS as usize + 1];
    let many = f.ehr.alert_batch(signer, 1, many);
    assert_err(&submit(&mut f, &many, &key), ScoreError::BatchTooLarge);
    // Signed by another key than the batch names, or by an unknown one.
    let other = SigningKey::from_bytes(&[5; 32]);
    let batch = f.ehr.alert_batch(signer, 1, vec![alert(doctor, 5)]);
    assert_err(&submit(&mut f, &batch, &other), ScoreError::BadSignature);
    let unknown = f.ehr.alert_batch(other.verifying_key().to_bytes(), 1, vec![alert(doctor, 5)]);
    assert_err(&submit(&mut f, &unknown, &other), ScoreError::UnknownSigner);
    // For another contract or chain.
    let mut elsewhere = batch.clone();
    elsewhere.chain = [1; 32];
    assert_ne!(elsewhere.chain, SANDBOX_CHAIN);
    assert_err(&submit(&mut f, &elsewhere, &key), ScoreError::WrongDomain);
    let mut elsewhere = batch.clone();
    elsewhere.contract = f.ehr.records.address;
    assert_err(&submit(&mut f, &elsewhere, &key), ScoreError::WrongDomain);
    // Inconsistent alerts: nothing of the batch is raised.
    for bad in [
        AuditAlert { score_bucket: 0, ..alert(doctor, 5) },
        AuditAlert { score_bucket: 11, ..alert(doctor, 5) },
        AuditAlert { window_end_ms: 1_700_000_000_000, ..alert(doctor, 5) },
        AuditAlert { reasons: AlertReasons(0), ..alert(doctor, 5) },
        AuditAlert { reasons: AlertReasons(1 << 11), ..alert(doctor, 5) },
    ] {
        let batch = f.ehr.alert_batch(signer, 1, vec![alert(doctor, 5), bad]);
        assert_err(&submit(&mut f, &batch, &key), ScoreError::InvalidAlert);
    }
    assert_eq!(f.ehr.alert(0), None);
    // A nonce more than 2^48 above the last would end the signer: refused.
    let far = f.ehr.alert_batch(signer, (1 << 48) + 1, vec![alert(doctor, 5)]);
    assert_err(&submit(&mut f, &far, &key), ScoreError::NonceTooFar);
    // The signer's bound account must be an active Analytics provider.
    let oracle = f.oracle;
    f.ehr.suspend_provider(admin, oracle).value.unwrap();
    assert_err(
        &submit(&mut f, &batch, &key),
        ScoreError::NoConsent(ehr_types::DenialReason::ProviderSuspended),
    );
    f.ehr.reinstate_provider(admin, oracle).value.unwrap();
    assert_eq!(submit(&mut f, &batch, &key).value, Ok(0));
    // A retired signer posts nothing.
    f.ehr.retire_signer(admin, signer).value.unwrap();
    let next = f.ehr.alert_batch(signer, 2, vec![alert(doctor, 5)]);
    assert_err(&submit(&mut f, &next, &key), ScoreError::SignerRetired);
}
