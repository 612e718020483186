//! drink suites: the release `.contract` artifacts of every contract, run in an in-process
//! chain. Build them first with `scripts/build-contracts.sh` (`scripts/test.sh` does).

mod alerts;
mod audit;
mod consent;
mod emergency;
mod erasure;
mod flat_weights;
mod holes;
mod keys;
mod records;
mod registry;
mod scores;
mod sealed;
mod seed;
mod upgrade;

use ehr_sandbox::{Call, EhrEvent};

/// Asserts a call succeeded without reverting and emitted exactly `events`.
#[track_caller]
pub fn assert_ok<T: std::fmt::Debug + PartialEq, E: std::fmt::Debug>(
    call: &Call<Result<T, E>>,
    value: T,
    events: Vec<EhrEvent>,
) {
    match &call.value {
        Ok(v) => assert_eq!(v, &value),
        Err(err) => panic!("expected Ok({value:?}), got Err({err:?})"),
    }
    assert!(!call.reverted, "an Ok call must not revert");
    assert_eq!(call.events, events);
}

/// Asserts a call returned exactly `error`, reverted, and left no events.
#[track_caller]
pub fn assert_err<T: std::fmt::Debug, E: std::fmt::Debug + PartialEq>(call: &Call<Result<T, E>>, error: E) {
    match &call.value {
        Err(err) => assert_eq!(err, &error),
        Ok(v) => panic!("expected Err({error:?}), got Ok({v:?})"),
    }
    assert!(call.reverted, "an Err call must revert its state changes");
    assert!(call.events.is_empty() && call.raw_events.is_empty(), "a reverted call leaves no events");
}

/// Asserts a `submit_score` call kept the attestation's refusal on chain: `Ok(Err(reason))`, not
/// reverted, with exactly one `ScoreRefused` event naming the reason when the refusal consumed
/// the nonce, and no event when it did not (a replay, a stale or too distant nonce).
#[track_caller]
pub fn assert_refused<E: std::fmt::Debug>(
    call: &Call<Result<Result<(), ehr_types::ScoreError>, E>>,
    reason: ehr_types::ScoreError,
) {
    match &call.value {
        Ok(Err(actual)) => assert_eq!(actual, &reason),
        other => panic!("expected Ok(Err({reason:?})), got {other:?}"),
    }
    assert!(!call.reverted, "a kept refusal must not revert");
    match call.events.as_slice() {
        [EhrEvent::ScoreRefused(refused)] if reason.consumes_nonce() => assert_eq!(refused.reason, reason),
        [] if !reason.consumes_nonce() => {}
        other => panic!("unexpected events for {reason:?}: {other:?}"),
    }
}
