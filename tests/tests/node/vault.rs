//! The vault's release rule against a real node: consent at the best block and an audited,
//! granted `request_access` within the audit window — each refusal with its reason.

use ehr_types::{
    AccessDecision, DenialReason, ProviderRole, RecordCategory, RecordsError, RegistryError, Scope,
};
use ehr_vault::release::{Refusal, Release, ReleaseRule};

use crate::{id, work_dir, Suite};

#[tokio::test(flavor = "multi_thread")]
async fn release_needs_consent_now_and_an_audited_request_within_the_window() {
    let dir = work_dir("vault-release");
    let s = Suite::deploy(&dir).await;
    let c = &s.cast;
    let (patient, doctor, other) = (id(&c.patient), id(&c.doctor), id(&c.other_doctor));
    for provider in [doctor, other] {
        let r: ehr_client::Submitted<Result<(), RegistryError>> =
            s.submit(&s.registry, &c.admin, "register_provider", (provider, ProviderRole::Doctor)).await;
        assert_eq!(r.value(), &Ok(()));
    }
    let r: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "register_patient", ()).await;
    assert_eq!(r.value(), &Ok(()));
    let node = ehr_client::Node::connect(s.dev_node.url()).await.unwrap();
    let rule = ReleaseRule::new(node, s.records.clone(), 2);
    let labs = RecordCategory::LabResult;
    let check = |caller| {
        let rule = &rule;
        async move { rule.check(&caller, &patient, labs).await.expect("the node answers") }
    };

    assert_eq!(check(patient).await, Ok(Release::Patient));
    assert_eq!(check(doctor).await, Err(Refusal::Denied { category: labs, reason: DenialReason::NoGrant }));

    let (best, _) = s.node.best_block().await.unwrap();
    let grant: ehr_client::Submitted<Result<(), RecordsError>> = s
        .submit(&s.records, &c.patient, "grant_access", (doctor, Scope::read(&[labs]), Some(best + 8)))
        .await;
    assert_eq!(grant.value(), &Ok(()));
    assert_eq!(
        check(doctor).await,
        Err(Refusal::NotAudited { category: labs, window: 2 }),
        "consent alone is not enough"
    );

    let request: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.doctor, "request_access", (patient, labs)).await;
    assert_eq!(request.value(), &Ok(AccessDecision::Granted));
    let audited_in = request.included.as_ref().unwrap().block_number;
    assert_eq!(check(doctor).await, Ok(Release::Reader { audited_in_block: audited_in }));
    // Another category is out of the grant's scope, audited or not.
    assert_eq!(
        rule.check(&doctor, &patient, RecordCategory::Vitals).await.unwrap(),
        Err(Refusal::Denied { category: RecordCategory::Vitals, reason: DenialReason::OutOfScope })
    );

    // The audit window passes: a new request is needed.
    for _ in 0..2 {
        s.node.transfer(&c.admin, &other, 1_000_000_000).await.unwrap();
    }
    assert_eq!(check(doctor).await, Err(Refusal::NotAudited { category: labs, window: 2 }));

    // A denied request does not count once consent is given later.
    let denied: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.other_doctor, "request_access", (patient, labs)).await;
    assert_eq!(denied.value(), &Ok(AccessDecision::Denied(DenialReason::NoGrant)));
    let grant: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "grant_access", (other, Scope::read(&[labs]), None::<u32>)).await;
    assert_eq!(grant.value(), &Ok(()));
    assert_eq!(check(other).await, Err(Refusal::NotAudited { category: labs, window: 2 }));

    // Revoked, a fresh audited request is still refused; an expired grant too.
    let request: ehr_client::Submitted<Result<AccessDecision, RecordsError>> =
        s.submit(&s.records, &c.other_doctor, "request_access", (patient, labs)).await;
    assert_eq!(request.value(), &Ok(AccessDecision::Granted));
    let revoke: ehr_client::Submitted<Result<(), RecordsError>> =
        s.submit(&s.records, &c.patient, "revoke_access", (other,)).await;
    assert_eq!(revoke.value(), &Ok(()));
    assert_eq!(check(other).await, Err(Refusal::Denied { category: labs, reason: DenialReason::NoGrant }));
    while s.node.best_block().await.unwrap().0 < best + 8 {
        s.node.transfer(&c.admin, &other, 1_000_000_000).await.unwrap();
    }
    assert_eq!(
        check(doctor).await,
        Err(Refusal::Denied { category: labs, reason: DenialReason::GrantExpired })
    );
}
