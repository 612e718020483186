//! Provider registry: every message, every error, every event.

use ehr_sandbox::{Ehr, EhrEvent};
use ehr_types::{events::*, ProviderInfo, ProviderRole, ProviderStatus, RegistryError};

use crate::{assert_err, assert_ok};

#[test]
fn deployer_is_admin_and_registry_starts_empty() {
    let mut ehr = Ehr::deploy();
    let admin = ehr.admin;
    assert_eq!(ehr.registry_admin(), admin);
    assert_eq!(ehr.pending_admin(), None);
    assert_eq!(ehr.provider_count(), 0);
    let registry = ehr.registry.address;
    assert_eq!(ehr.records_registry(), registry, "records contract is wired to the registry");
}

#[test]
fn every_role_registers_and_is_queryable() {
    let mut ehr = Ehr::deploy();
    let admin = ehr.admin;
    let roles = [
        ProviderRole::Doctor,
        ProviderRole::Lab,
        ProviderRole::Pharmacy,
        ProviderRole::Insurer,
        ProviderRole::Analytics,
    ];
    for (i, role) in roles.into_iter().enumerate() {
        let account = ehr.chain.account(&format!("provider {i}"));
        let call = ehr.register_provider(admin, account, role);
        assert_ok(
            &call,
            (),
            vec![EhrEvent::ProviderRegistered(ProviderRegistered { provider: account, role })],
        );
        let block = ehr.chain.block_number();
        assert_eq!(
            ehr.provider(account),
            Some(ProviderInfo {
                role,
                status: ProviderStatus::Active,
                registered_at: block,
                suspended_at: None
            })
        );
        assert!(ehr.is_active_provider(account, role));
        let other = if role == ProviderRole::Doctor { ProviderRole::Lab } else { ProviderRole::Doctor };
        assert!(!ehr.is_active_provider(account, other), "active only in its own role");
    }
    assert_eq!(ehr.provider_count(), 5);
    let stranger = ehr.stranger;
    assert_eq!(ehr.provider(stranger), None);
    assert!(!ehr.is_active_provider(stranger, ProviderRole::Doctor));
}

#[test]
fn suspend_and_reinstate() {
    let mut ehr = Ehr::with_cast();
    let (admin, doctor) = (ehr.admin, ehr.doctor);
    let call = ehr.suspend_provider(admin, doctor);
    assert_ok(&call, (), vec![EhrEvent::ProviderSuspended(ProviderSuspended { provider: doctor })]);
    assert_eq!(ehr.provider(doctor).unwrap().status, ProviderStatus::Suspended);
    assert!(!ehr.is_active_provider(doctor, ProviderRole::Doctor));
    assert_err(&ehr.suspend_provider(admin, doctor), RegistryError::ProviderAlreadySuspended);

    let call = ehr.reinstate_provider(admin, doctor);
    assert_ok(&call, (), vec![EhrEvent::ProviderReinstated(ProviderReinstated { provider: doctor })]);
    assert!(ehr.is_active_provider(doctor, ProviderRole::Doctor));
    assert_err(&ehr.reinstate_provider(admin, doctor), RegistryError::ProviderNotSuspended);
}

#[test]
fn suspend_and_reinstate_refuse_unknown_providers_and_non_admins() {
    let mut ehr = Ehr::with_cast();
    let (admin, doctor, stranger) = (ehr.admin, ehr.doctor, ehr.stranger);
    assert_err(&ehr.suspend_provider(admin, stranger), RegistryError::ProviderNotFound);
    assert_err(&ehr.reinstate_provider(admin, stranger), RegistryError::ProviderNotFound);
    assert_err(&ehr.suspend_provider(doctor, doctor), RegistryError::NotAdmin);
    ehr.suspend_provider(admin, doctor).value.unwrap();
    assert_err(&ehr.reinstate_provider(doctor, doctor), RegistryError::NotAdmin);
    assert_eq!(ehr.provider(doctor).unwrap().status, ProviderStatus::Suspended);
}

#[test]
fn two_step_admin_transfer() {
    let mut ehr = Ehr::deploy();
    let (admin, candidate, stranger, doctor) = (ehr.admin, ehr.other_doctor, ehr.stranger, ehr.doctor);
    let call = ehr.propose_admin(admin, candidate);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AdminTransferProposed(AdminTransferProposed { admin, candidate: Some(candidate) })],
    );
    assert_eq!(ehr.pending_admin(), Some(candidate));
    // The admin stays in charge until the candidate accepts.
    assert_eq!(ehr.registry_admin(), admin);
    assert_err(&ehr.accept_admin(stranger), RegistryError::NotPendingAdmin);

    let call = ehr.accept_admin(candidate);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AdminTransferred(AdminTransferred { previous: admin, admin: candidate })],
    );
    assert_eq!(ehr.registry_admin(), candidate);
    assert_eq!(ehr.pending_admin(), None);
    // The old admin lost its powers; the new one has them.
    assert_err(&ehr.register_provider(admin, doctor, ProviderRole::Doctor), RegistryError::NotAdmin);
    ehr.register_provider(candidate, doctor, ProviderRole::Doctor).value.unwrap();
}

#[test]
fn admin_proposal_can_be_cancelled_or_replaced() {
    let mut ehr = Ehr::deploy();
    let (admin, first, second) = (ehr.admin, ehr.doctor, ehr.other_doctor);
    assert_err(&ehr.cancel_admin_proposal(admin), RegistryError::NoPendingAdmin);
    assert_err(&ehr.accept_admin(first), RegistryError::NoPendingAdmin);
    ehr.propose_admin(admin, first).value.unwrap();
    ehr.propose_admin(admin, second).value.unwrap();
    assert_eq!(ehr.pending_admin(), Some(second));
    assert_err(&ehr.accept_admin(first), RegistryError::NotPendingAdmin);
    assert_err(&ehr.cancel_admin_proposal(first), RegistryError::NotAdmin);
    let call = ehr.cancel_admin_proposal(admin);
    assert_ok(
        &call,
        (),
        vec![EhrEvent::AdminTransferProposed(AdminTransferProposed { admin, candidate: None })],
    );
    assert_eq!(ehr.pending_admin(), None);
    assert_err(&ehr.accept_admin(second), RegistryError::NoPendingAdmin);
}

#[test]
fn propose_admin_refuses_non_admins_and_the_admin_itself() {
    let mut ehr = Ehr::deploy();
    let (admin, stranger) = (ehr.admin, ehr.stranger);
    assert_err(&ehr.propose_admin(stranger, stranger), RegistryError::NotAdmin);
    assert_err(&ehr.propose_admin(admin, admin), RegistryError::AlreadyAdmin);
    assert_eq!(ehr.pending_admin(), None);
}
