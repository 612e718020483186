//! The detector: per accessor and time window, behavioural features, each a robust z-score
//! against the accessor's role peers, combined into a score in [0, 1] with readable reasons.
//!
//! Features of an accessor in a window (default one week):
//!
//! | feature | what it counts |
//! |---|---|
//! | `accesses` | requests |
//! | `patients` | distinct patients |
//! | `denied` | share of requests denied |
//! | `probing` | share denied for want of a grant or scope (`NoGrant`, `OutOfScope`, …), not for expiry |
//! | `off_hours` | share at hours when the role's accounts rarely work (< ¼ of the role's mean hourly volume) |
//! | `new_hours` | share at hours of the day this account never worked in its earlier windows |
//! | `rare_categories` | share of requests for categories its role rarely asks for (< 2 % of the role's requests) |
//! | `outsiders` | patients it read whom none of its care community saw within two weeks: its community is the peers of its role whose cosine similarity of granted patients with it is at least 0.3 × the mean of its three nearest, and the peers it is in the community of (the user network of Chen & Malin's CADS) |
//! | `emergencies` | patients opened under break-glass |
//! | `unreviewed` | break-glass patients whose review is not an acceptance (pending, overdue or flagged) |
//! | `change` | the largest robust z of `accesses`, `patients`, `rare_categories`, `outsiders`, `off_hours` against the account's own earlier windows |
//!
//! Volumes (`accesses`, `patients`) are compared as ln(1 + count), being heavy-tailed. Shares
//! are shrunk towards the role's overall rate with 10 pseudo-requests, so that a
//! window of one denied request is not "100 % denied". Each feature becomes `z = max(0, (x − median) / (1.4826·MAD + floor))` over all windows of
//! the same role (only excess is suspicious; the floor keeps a constant peer group from making
//! every small deviation infinite). The window's strength is `S = √(Σ weight·z²)` and its score
//! `S / (S + scale)`; an accessor's score is its highest window's. Reasons name the features
//! with `z ≥ 3`, their value and the peers' median.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::line::{AuditLine, Decision, Review};

/// Detector parameters.
#[derive(Debug, Clone, Serialize)]
pub struct DetectorConfig {
    /// Window length in milliseconds (default one week).
    pub window_ms: u64,
    /// The strength `S` at which the score is ½.
    pub scale: f64,
    /// Accessors scoring at least this are flagged (default 0.35: a 1 % false-positive rate
    /// on the synthetic hospital `scripts/bench-audit.sh` tunes on).
    pub threshold: f64,
    /// Earlier windows of its own an accessor needs before its change is judged.
    pub min_history: usize,
    /// An accessor's care community: the peers (accounts of its role) whose cosine similarity of
    /// granted patients with it is at least this share of the mean of its three nearest (and
    /// the peers it is in the community of).
    pub community: f64,
    /// How close in time (ms) a community peer's access to the patient must be for a read to
    /// count as in the course of care.
    pub contact_ms: u64,
    /// Pseudo-requests at the role's overall rate that a share is shrunk with, so that a
    /// window of one denied request is not "100 % denied".
    pub prior_requests: f64,
    /// The z from which a feature is named as a reason.
    pub reason_z: f64,
    /// Report every window of every accessor, not only its most suspicious one.
    pub all_windows: bool,
    /// Where windows start (Unix ms): window `k` is `[origin + k·window_ms, …)`. Default: the
    /// trail's first decision. A follower that drops old decisions keeps its origin, so that its
    /// windows do not move.
    pub origin_ms: Option<u64>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            window_ms: 7 * 24 * 3_600_000,
            scale: 8.0,
            // What `scripts/bench-audit.sh` tunes on its first hospital: 1 % of its normal
            // accounts above.
            threshold: 0.35,
            min_history: 3,
            community: 0.3,
            contact_ms: 14 * 24 * 3_600_000,
            prior_requests: 10.0,
            reason_z: 3.0,
            all_windows: false,
            origin_ms: None,
        }
    }
}

/// The features, in report order: one per alert reason code (`ehr_types::alerts::AlertReason`),
/// so that a flagged accessor's reasons are the codes its on-chain alert carries.
use ehr_types::alerts::AlertReason as Feature;

const FEATURES: [Feature; 11] = Feature::ALL;

/// The features judged against the accessor's own history.
const CHANGE_FEATURES: [Feature; 5] =
    [Feature::Accesses, Feature::Patients, Feature::RareCategories, Feature::Outsiders, Feature::OffHours];

/// What the detector knows of each feature.
trait FeatureExt: Copy {
    fn index(self) -> usize;
    fn name(self) -> &'static str;
    fn weight(self) -> f64;
    fn is_log(self) -> bool;
    fn floor(self) -> f64;
    fn is_share(self) -> bool;
    fn describe(self, value: f64, median: f64, role: &str) -> String;
}

impl FeatureExt for Feature {
    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        self.code()
    }

    fn weight(self) -> f64 {
        match self {
            Feature::Accesses | Feature::Denied | Feature::OffHours | Feature::Emergencies => 0.5,
            Feature::NewHours | Feature::RareCategories | Feature::Change => 0.7,
            Feature::Patients | Feature::Probing => 1.0,
            Feature::Outsiders => 1.5,
            Feature::Unreviewed => 1.5,
        }
    }

    /// Volumes are heavy-tailed: they are compared as ln(1 + count).
    fn is_log(self) -> bool {
        matches!(self, Feature::Accesses | Feature::Patients)
    }

    /// The smallest spread a feature's z divides by.
    fn floor(self) -> f64 {
        match self {
            // ln(1 + count): a quarter above or below the median is a tenth of a unit.
            Feature::Accesses | Feature::Patients => 0.1,
            Feature::Denied | Feature::Probing | Feature::OffHours | Feature::NewHours => 0.05,
            Feature::RareCategories => 0.02,
            Feature::Outsiders | Feature::Emergencies | Feature::Change => 1.0,
            Feature::Unreviewed => 0.5,
        }
    }

    fn is_share(self) -> bool {
        matches!(
            self,
            Feature::Denied
                | Feature::Probing
                | Feature::OffHours
                | Feature::NewHours
                | Feature::RareCategories
        )
    }

    fn describe(self, value: f64, median: f64, role: &str) -> String {
        let (value, median) = if self.is_log() { (value.exp_m1(), median.exp_m1()) } else { (value, median) };
        let (v, m) = if self.is_share() {
            (format!("{:.0} %", value * 100.0), format!("{:.0} %", median * 100.0))
        } else {
            (format!("{value:.0}"), format!("{median:.0}"))
        };
        match self {
            Feature::Accesses => format!("{v} requests in the window vs a median of {m} for {role} accounts"),
            Feature::Patients => format!("{v} distinct patients vs a median of {m} for {role} accounts"),
            Feature::Denied => format!("{v} of its requests denied vs {m} for {role} accounts"),
            Feature::Probing => {
                format!("{v} of its requests denied for want of a grant or scope (probing) vs {m} for {role} accounts")
            }
            Feature::OffHours => format!("{v} of its requests at hours when {role} accounts rarely work vs {m}"),
            Feature::NewHours => format!("{v} of its requests at hours of the day it never worked before vs {m}"),
            Feature::RareCategories => {
                format!("{v} of its requests for record categories {role} accounts rarely ask for vs {m}")
            }
            Feature::Outsiders => format!(
                "{v} patients read that no {role} account of its care community saw within two weeks vs a median of {m}"
            ),
            Feature::Emergencies => format!("{v} patients opened under break-glass vs a median of {m} for {role} accounts"),
            Feature::Unreviewed => format!("{v} break-glass patients not accepted by an auditor (pending, overdue or flagged)"),
            Feature::Change => format!("behaviour changed against its own history (robust z {value:.1})"),
        }
    }
}

/// A window of time in blocks and milliseconds (the first and last request in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First block.
    pub from_block: u32,
    /// Last block.
    pub to_block: u32,
    /// First request's time.
    pub from_ms: u64,
    /// Last request's time.
    pub to_ms: u64,
}

/// The detector's verdict on one accessor.
#[derive(Debug, Clone, Serialize)]
pub struct AccessorReport {
    /// The accessor (SS58).
    pub accessor: String,
    /// Its role.
    pub role: String,
    /// Suspicion in [0, 1], higher is more suspicious: its most suspicious window's.
    pub score: f64,
    /// Whether the score reaches the threshold.
    pub flagged: bool,
    /// The most suspicious window.
    pub window: Window,
    /// What made it suspicious, against which baseline.
    pub reasons: Vec<String>,
    /// Reason codes (feature names) of `reasons`, in the same order.
    pub reason_codes: Vec<String>,
    /// Requests of the accessor in the whole trail.
    pub requests: usize,
    /// Every feature of the most suspicious window: value, the role's median, robust z.
    pub features: Vec<FeatureScore>,
    /// With `all_windows`: every window of the accessor, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<WindowScore>,
}

/// One feature of a window, against the role's peers.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureScore {
    /// The feature's name (a reason code).
    pub name: &'static str,
    /// Its value (counts and shares as counted, volumes as counts).
    pub value: f64,
    /// The median of the role's windows.
    pub median: f64,
    /// Robust z against the role's windows (0 when below the median).
    pub z: f64,
}

/// One window of an accessor.
#[derive(Debug, Clone, Serialize)]
pub struct WindowScore {
    /// When.
    pub window: Window,
    /// Its score.
    pub score: f64,
    /// Its features.
    pub features: Vec<FeatureScore>,
}

/// Hourly volume below this share of the role's mean hour is "off-hours" for the role.
const OFF_HOURS_SHARE: f64 = 0.25;
/// Categories below this share of the role's requests are rare for the role.
const RARE_CATEGORY_SHARE: f64 = 0.02;
/// Denial reasons that are not a lapse of time: asking without a grant or beyond its scope.
const PROBING_REASONS: [&str; 6] = [
    "NoGrant",
    "OutOfScope",
    "PatientNotRegistered",
    "ProviderNotRegistered",
    "RoleNotPermitted",
    "NotRecordAuthor",
];

#[derive(Default)]
struct Agg {
    accesses: u32,
    patients: HashSet<u32>,
    /// Patients granted, with the first time in the window.
    read: HashMap<u32, u64>,
    denied: u32,
    probing: u32,
    off_hours: u32,
    hours: [u32; 24],
    rare: u32,
    emergency: HashSet<u32>,
    unreviewed: HashSet<u32>,
    window: Option<Window>,
}

struct Row {
    accessor: u32,
    values: [f64; 11],
    window: Window,
    change_feature: Option<Feature>,
}

fn hour_of(time_ms: u64) -> usize {
    ((time_ms / 3_600_000) % 24) as usize
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Median and median absolute deviation.
fn median_mad(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut deviations: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut deviations))
}

fn robust_z(feature: Feature, value: f64, (median, mad): (f64, f64)) -> f64 {
    ((value - median) / (1.4826 * mad + feature.floor())).max(0.0)
}

/// Scores every accessor of `lines` (any order); the most suspicious first.
pub fn detect(lines: &[AuditLine], config: &DetectorConfig) -> Vec<AccessorReport> {
    if lines.is_empty() {
        return Vec::new();
    }
    // Oldest first, whatever the input's order: "before", "new" and "own history" are in time.
    let mut in_time: Vec<&AuditLine> = lines.iter().collect();
    in_time.sort_by_key(|l| (l.time_ms, l.block));
    let lines = in_time.as_slice();
    let window_ms = config.window_ms.max(1);
    let first = lines.iter().map(|l| l.time_ms).min().unwrap_or(0);
    let t0 = config.origin_ms.map_or(first, |origin| origin.min(first));

    // Interned accounts, roles and categories.
    let mut accessor_ids: HashMap<&str, u32> = HashMap::new();
    let mut patient_ids: HashMap<&str, u32> = HashMap::new();
    let mut accessor_names: Vec<&str> = Vec::new();
    let mut accessor_roles: Vec<&str> = Vec::new();
    // The time of the line each accessor's role was taken from: its latest.
    let mut role_seen: Vec<u64> = Vec::new();
    let mut requests: Vec<usize> = Vec::new();
    let mut role_hours: HashMap<&str, [u64; 24]> = HashMap::new();
    let mut role_categories: HashMap<&str, HashMap<&str, u64>> = HashMap::new();
    let mut role_totals: HashMap<&str, u64> = HashMap::new();
    for line in lines {
        let next = accessor_ids.len() as u32;
        let a = *accessor_ids.entry(line.accessor.as_str()).or_insert(next);
        if a as usize == accessor_names.len() {
            accessor_names.push(&line.accessor);
            accessor_roles.push(&line.role);
            role_seen.push(line.time_ms);
            requests.push(0);
        } else if line.time_ms >= role_seen[a as usize] {
            // An account's role is the one of its latest line (the registry's, as exported).
            accessor_roles[a as usize] = &line.role;
            role_seen[a as usize] = line.time_ms;
        }
        requests[a as usize] += 1;
        let next = patient_ids.len() as u32;
        patient_ids.entry(line.patient.as_str()).or_insert(next);
        role_hours.entry(&line.role).or_insert([0; 24])[hour_of(line.time_ms)] += 1;
        *role_categories.entry(&line.role).or_default().entry(&line.category).or_insert(0) += 1;
        *role_totals.entry(&line.role).or_insert(0) += 1;
    }
    let off_hours: HashMap<&str, [bool; 24]> = role_hours
        .iter()
        .map(|(role, hours)| {
            let mean = hours.iter().sum::<u64>() as f64 / 24.0;
            let mut off = [false; 24];
            for (h, count) in hours.iter().enumerate() {
                off[h] = (*count as f64) < OFF_HOURS_SHARE * mean;
            }
            (*role, off)
        })
        .collect();
    let is_rare = |role: &str, category: &str| {
        let total = role_totals.get(role).copied().unwrap_or(0).max(1) as f64;
        let count = role_categories.get(role).and_then(|c| c.get(category)).copied().unwrap_or(0) as f64;
        count / total < RARE_CATEGORY_SHARE
    };

    // The care graph: granted patients per accessor, accessors per patient, co-access counts.
    let mut granted: Vec<HashSet<u32>> = vec![HashSet::new(); accessor_names.len()];
    let mut accessors_of: Vec<Vec<u32>> = vec![Vec::new(); patient_ids.len()];
    for line in lines.iter().filter(|l| l.decision == Decision::Granted) {
        let a = accessor_ids[line.accessor.as_str()];
        let p = patient_ids[line.patient.as_str()];
        if granted[a as usize].insert(p) {
            accessors_of[p as usize].push(a);
        }
    }
    let mut co: HashMap<(u32, u32), u32> = HashMap::new();
    for accessors in &accessors_of {
        for (i, &a) in accessors.iter().enumerate() {
            for &b in &accessors[i + 1..] {
                *co.entry((a.min(b), a.max(b))).or_insert(0) += 1;
            }
        }
    }
    // Each accessor's care community: the peers of its role (labs, pharmacies and insurers see
    // nearly every patient, and would vouch for anyone) about as close to it as its nearest
    // ones, whatever the size of its team, and symmetric (a consultant is close to the teams
    // it consults for, if not they to it).
    let mut similar: Vec<Vec<(f64, u32)>> = vec![Vec::new(); accessor_names.len()];
    for (&(a, b), &shared) in &co {
        if accessor_roles[a as usize] != accessor_roles[b as usize] {
            continue;
        }
        let cosine = f64::from(shared)
            / ((granted[a as usize].len().max(1) * granted[b as usize].len().max(1)) as f64).sqrt();
        similar[a as usize].push((cosine, b));
        similar[b as usize].push((cosine, a));
    }
    let mut community: Vec<HashSet<u32>> = vec![HashSet::new(); accessor_names.len()];
    for (a, mut peers) in similar.into_iter().enumerate() {
        peers.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        let nearest = peers.iter().take(3).map(|(c, _)| c).sum::<f64>() / peers.len().clamp(1, 3) as f64;
        for (_, b) in peers.into_iter().take_while(|(c, _)| *c >= config.community * nearest) {
            community[a].insert(b);
            community[b as usize].insert(a as u32);
        }
    }
    // Granted accesses of each patient in time order: who saw it when.
    let mut care: Vec<Vec<(u64, u32)>> = vec![Vec::new(); patient_ids.len()];
    for line in lines.iter().filter(|l| l.decision == Decision::Granted) {
        care[patient_ids[line.patient.as_str()] as usize]
            .push((line.time_ms, accessor_ids[line.accessor.as_str()]));
    }
    for accesses in care.iter_mut() {
        accesses.sort_unstable();
    }
    // A read at `t` is outside the course of care when no community peer saw the patient
    // within `contact_ms` of it.
    let outside = |a: u32, p: u32, t: u64| -> bool {
        let accesses = &care[p as usize];
        let from = accesses.partition_point(|(time, _)| *time < t.saturating_sub(config.contact_ms));
        !accesses[from..]
            .iter()
            .take_while(|(time, _)| *time <= t.saturating_add(config.contact_ms))
            .any(|(_, b)| *b != a && community[a as usize].contains(b))
    };

    // Aggregates per (accessor, window).
    let mut aggs: HashMap<(u32, u64), Agg> = HashMap::new();
    for line in lines {
        let a = accessor_ids[line.accessor.as_str()];
        let p = patient_ids[line.patient.as_str()];
        let w = (line.time_ms - t0) / window_ms;
        let agg = aggs.entry((a, w)).or_default();
        agg.accesses += 1;
        agg.patients.insert(p);
        if line.decision == Decision::Granted {
            agg.read.entry(p).or_insert(line.time_ms);
        } else {
            agg.denied += 1;
            if line.reason.as_deref().is_some_and(|r| PROBING_REASONS.contains(&r)) {
                agg.probing += 1;
            }
        }
        let hour = hour_of(line.time_ms);
        agg.hours[hour] += 1;
        if off_hours.get(line.role.as_str()).is_some_and(|off| off[hour]) {
            agg.off_hours += 1;
        }
        if is_rare(&line.role, &line.category) {
            agg.rare += 1;
        }
        if line.emergency {
            agg.emergency.insert(p);
            if line.review != Some(Review::Accepted) {
                agg.unreviewed.insert(p);
            }
        }
        let span = agg.window.get_or_insert(Window {
            from_block: line.block,
            to_block: line.block,
            from_ms: line.time_ms,
            to_ms: line.time_ms,
        });
        span.from_block = span.from_block.min(line.block);
        span.to_block = span.to_block.max(line.block);
        span.from_ms = span.from_ms.min(line.time_ms);
        span.to_ms = span.to_ms.max(line.time_ms);
    }
    // Each role's overall rates of the shares, which small windows are shrunk towards.
    let mut role_rates: HashMap<&str, [f64; 4]> = HashMap::new();
    for ((a, _), agg) in &aggs {
        let rates = role_rates.entry(accessor_roles[*a as usize]).or_insert([0.0; 4]);
        rates[0] += f64::from(agg.denied);
        rates[1] += f64::from(agg.probing);
        rates[2] += f64::from(agg.off_hours);
        rates[3] += f64::from(agg.rare);
    }
    for (role, rates) in role_rates.iter_mut() {
        let total = role_totals.get(role).copied().unwrap_or(0).max(1) as f64;
        for rate in rates.iter_mut() {
            *rate /= total;
        }
    }
    let mut by_accessor: Vec<Vec<(u64, Agg)>> = (0..accessor_names.len()).map(|_| Vec::new()).collect();
    for ((a, w), agg) in aggs {
        by_accessor[a as usize].push((w, agg));
    }

    // Feature rows, each accessor's windows in time order (its history before each).
    let mut rows: Vec<Row> = Vec::new();
    for (a, windows) in by_accessor.iter_mut().enumerate() {
        windows.sort_by_key(|(w, _)| *w);
        let mut seen_hours = [0u32; 24];
        let mut history: Vec<[f64; 11]> = Vec::new();
        for (_, agg) in windows.iter() {
            let n = f64::from(agg.accesses);
            let rates = role_rates.get(accessor_roles[a]).copied().unwrap_or([0.0; 4]);
            let prior = config.prior_requests.max(0.0);
            let share = |count: u32, rate: f64| (f64::from(count) + prior * rate) / (n + prior).max(1.0);
            let mut values = [0.0; 11];
            values[Feature::Accesses.index()] = f64::from(agg.accesses).ln_1p();
            values[Feature::Patients.index()] = (agg.patients.len() as f64).ln_1p();
            values[Feature::Denied.index()] = share(agg.denied, rates[0]);
            values[Feature::Probing.index()] = share(agg.probing, rates[1]);
            values[Feature::OffHours.index()] = share(agg.off_hours, rates[2]);
            values[Feature::RareCategories.index()] = share(agg.rare, rates[3]);
            values[Feature::Outsiders.index()] =
                agg.read.iter().filter(|(&p, &t)| outside(a as u32, p, t)).count() as f64;
            values[Feature::Emergencies.index()] = agg.emergency.len() as f64;
            values[Feature::Unreviewed.index()] = agg.unreviewed.len() as f64;
            let mut change_feature = None;
            if history.len() >= config.min_history {
                let new: u32 = (0..24).filter(|&h| seen_hours[h] == 0).map(|h| agg.hours[h]).sum();
                values[Feature::NewHours.index()] = share(new, 0.0);
                let mut change = 0.0;
                for feature in CHANGE_FEATURES {
                    let own: Vec<f64> = history.iter().map(|v| v[feature.index()]).collect();
                    let z = robust_z(feature, values[feature.index()], median_mad(&own));
                    if z > change {
                        change = z;
                        change_feature = Some(feature);
                    }
                }
                values[Feature::Change.index()] = change;
            }
            for (seen, count) in seen_hours.iter_mut().zip(agg.hours) {
                *seen += count;
            }
            history.push(values);
            let window = agg.window.unwrap_or(Window { from_block: 0, to_block: 0, from_ms: 0, to_ms: 0 });
            rows.push(Row { accessor: a as u32, values, window, change_feature });
        }
    }

    // Peer baselines per role and feature (all rows when a role has too few).
    let mut role_rows: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        role_rows.entry(accessor_roles[row.accessor as usize]).or_default().push(i);
    }
    let all_rows: Vec<usize> = (0..rows.len()).collect();
    // Roles with too few windows to be their own baseline: compared with every account.
    let pooled: HashSet<&str> =
        role_rows.iter().filter(|(_, members)| members.len() < 8).map(|(role, _)| *role).collect();
    let baselines: HashMap<&str, [(f64, f64); 11]> = role_rows
        .iter()
        .map(|(role, members)| {
            let members = if pooled.contains(role) { &all_rows } else { members };
            let mut stats = [(0.0, 0.0); 11];
            for feature in FEATURES {
                let values: Vec<f64> = members.iter().map(|&i| rows[i].values[feature.index()]).collect();
                stats[feature.index()] = median_mad(&values);
            }
            (*role, stats)
        })
        .collect();

    let feature_scores = |row: &Row, z: &[f64; 11]| -> Vec<FeatureScore> {
        let stats = &baselines[accessor_roles[row.accessor as usize]];
        FEATURES
            .iter()
            .map(|&f| {
                let (mut value, mut median) = (row.values[f.index()], stats[f.index()].0);
                if f.is_log() {
                    (value, median) = (value.exp_m1(), median.exp_m1());
                }
                FeatureScore { name: f.name(), value, median, z: z[f.index()] }
            })
            .collect()
    };

    // Scores: each accessor's most suspicious window.
    let mut best: Vec<Option<(f64, usize, [f64; 11])>> = vec![None; accessor_names.len()];
    let mut all: Vec<Vec<WindowScore>> = vec![Vec::new(); accessor_names.len()];
    for (i, row) in rows.iter().enumerate() {
        let role = accessor_roles[row.accessor as usize];
        let stats = &baselines[role];
        let mut z = [0.0; 11];
        for feature in FEATURES {
            z[feature.index()] = robust_z(feature, row.values[feature.index()], stats[feature.index()]);
        }
        let strength = FEATURES.iter().map(|f| f.weight() * z[f.index()].powi(2)).sum::<f64>().sqrt();
        let score = strength / (strength + config.scale);
        if config.all_windows {
            all[row.accessor as usize].push(WindowScore {
                window: row.window,
                score,
                features: feature_scores(row, &z),
            });
        }
        let slot = &mut best[row.accessor as usize];
        if slot.is_none_or(|(s, _, _)| score > s) {
            *slot = Some((score, i, z));
        }
    }
    let mut reports: Vec<AccessorReport> = best
        .into_iter()
        .enumerate()
        .filter_map(|(a, best)| {
            let (score, i, z) = best?;
            let row = &rows[i];
            let role = accessor_roles[a];
            let stats = &baselines[role];
            let mut named: Vec<Feature> =
                FEATURES.iter().copied().filter(|f| z[f.index()] >= config.reason_z).collect();
            named.sort_by(|x, y| {
                (y.weight() * z[y.index()].powi(2)).total_cmp(&(x.weight() * z[x.index()].powi(2)))
            });
            named.truncate(4);
            let reasons = named
                .iter()
                .map(|&f| {
                    let text = f.describe(row.values[f.index()], stats[f.index()].0, role);
                    let text = match (f, row.change_feature) {
                        (Feature::Change, Some(which)) => format!("{text}, most in {}", which.name()),
                        _ => text,
                    };
                    let text = if pooled.contains(role) && f != Feature::Change {
                        format!("{text} (too few {role} accounts to compare with: medians of every account)")
                    } else {
                        text
                    };
                    format!("{text} (robust z {:.1})", z[f.index()])
                })
                .collect();
            Some(AccessorReport {
                accessor: accessor_names[a].to_string(),
                role: role.to_string(),
                score,
                flagged: score >= config.threshold,
                window: row.window,
                reasons,
                reason_codes: named.iter().map(|f| f.name().to_string()).collect(),
                requests: requests[a],
                features: feature_scores(row, &z),
                windows: std::mem::take(&mut all[a]),
            })
        })
        .collect();
    reports.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| x.accessor.cmp(&y.accessor)));
    reports
}

/// The rule baseline the detector is compared with, as audit tools commonly ship it: an
/// account is suspicious by its busiest week's distinct patients against its role's 99th
/// percentile, or by its denials (ten a week is the alarm). Score: the larger ratio.
pub fn rule_baseline(lines: &[AuditLine], window_ms: u64) -> HashMap<String, f64> {
    let window_ms = window_ms.max(1);
    let t0 = lines.iter().map(|l| l.time_ms).min().unwrap_or(0);
    let mut weeks: HashMap<(&str, u64), (HashSet<&str>, u32, &str)> = HashMap::new();
    for line in lines {
        let entry = weeks
            .entry((&line.accessor, (line.time_ms - t0) / window_ms))
            .or_insert_with(|| (HashSet::new(), 0, line.role.as_str()));
        entry.0.insert(&line.patient);
        if line.decision == Decision::Denied {
            entry.1 += 1;
        }
    }
    let mut by_role: HashMap<&str, Vec<f64>> = HashMap::new();
    for (patients, _, role) in weeks.values() {
        by_role.entry(role).or_default().push(patients.len() as f64);
    }
    let p99: HashMap<&str, f64> = by_role
        .into_iter()
        .map(|(role, mut v)| {
            v.sort_by(f64::total_cmp);
            let i = ((v.len() as f64 * 0.99).ceil() as usize).saturating_sub(1).min(v.len() - 1);
            (role, v[i].max(1.0))
        })
        .collect();
    let mut scores: HashMap<String, f64> = HashMap::new();
    for ((accessor, _), (patients, denied, role)) in &weeks {
        let score = (patients.len() as f64 / p99[role]).max(f64::from(*denied) / 10.0);
        let slot = scores.entry(accessor.to_string()).or_insert(0.0);
        *slot = slot.max(score);
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::Mode;

    const DAY: u64 = 24 * 3_600_000;
    /// Monday 2026-01-05, 10:00 UTC.
    const T0: u64 = 1_767_607_200_000;

    fn line(accessor: &str, role: &str, patient: &str, time_ms: u64) -> AuditLine {
        AuditLine {
            block: (time_ms.saturating_sub(T0) / 6_000) as u32 + 1,
            time_ms,
            patient: patient.into(),
            accessor: accessor.into(),
            role: role.into(),
            category: "Summary".into(),
            mode: Mode::Read,
            decision: Decision::Granted,
            reason: None,
            emergency: false,
            review: None,
            case: None,
            seq: None,
            prev: None,
        }
    }

    /// Ten doctors, each reading its own three patients every weekday for three weeks; and
    /// `extra` lines.
    fn ward(extra: Vec<AuditLine>) -> Vec<AuditLine> {
        let mut lines = Vec::new();
        for day in 0..21u64 {
            if day % 7 >= 5 {
                continue;
            }
            for d in 0..10 {
                for p in 0..3 {
                    let time = T0 + day * DAY + (d * 3 + p) * 60_000;
                    lines.push(line(&format!("doctor{d}"), "Doctor", &format!("patient{d}-{p}"), time));
                }
            }
        }
        lines.extend(extra);
        lines.sort_by_key(|l| l.time_ms);
        lines
    }

    #[test]
    fn nothing_to_score_and_a_single_line() {
        assert!(detect(&[], &DetectorConfig::default()).is_empty());
        let reports = detect(&[line("a", "Doctor", "p", T0)], &DetectorConfig::default());
        assert_eq!(reports.len(), 1);
        assert!((0.0..=1.0).contains(&reports[0].score) && !reports[0].flagged, "{:?}", reports[0]);
        assert_eq!(reports[0].requests, 1);
    }

    #[test]
    fn a_snooper_stands_out_and_the_order_of_lines_does_not_matter() {
        let snooping: Vec<AuditLine> = (0..40u64)
            .map(|p| {
                line("doctor9", "Doctor", &format!("patient{}-{}", p % 9, p % 3), T0 + 15 * DAY + p * 60_000)
            })
            .chain(
                (0..40u64)
                    .map(|p| line("doctor9", "Doctor", &format!("stranger{p}"), T0 + 16 * DAY + p * 60_000)),
            )
            .collect();
        let lines = ward(snooping);
        let config = DetectorConfig::default();
        let reports = detect(&lines, &config);
        assert_eq!(
            reports[0].accessor,
            "doctor9",
            "{:?}",
            reports.iter().map(|r| (&r.accessor, r.score)).collect::<Vec<_>>()
        );
        assert!(reports[0].flagged);
        assert!(reports[0].reason_codes.iter().any(|c| c == "patients"), "{:?}", reports[0].reasons);
        assert!(reports[1..].iter().all(|r| !r.flagged), "only the snooper");

        let mut shuffled = lines.clone();
        shuffled.reverse();
        shuffled.swap(3, 500);
        let again = detect(&shuffled, &config);
        let key = |r: &AccessorReport| (r.accessor.clone(), (r.score * 1e9).round() as i64, r.flagged);
        assert_eq!(again.iter().map(key).collect::<Vec<_>>(), reports.iter().map(key).collect::<Vec<_>>());
    }

    #[test]
    fn a_role_too_small_to_compare_with_is_compared_with_every_account_and_says_so() {
        // One analytics account reading eighty patients in a week: its role has no peers.
        let bulk = (0..80u64).map(|p| {
            line("oracle", "Analytics", &format!("patient{}-{}", p % 10, p % 3), T0 + 8 * DAY + p * 1_000)
        });
        let reports = detect(&ward(bulk.collect()), &DetectorConfig::default());
        let oracle = reports.iter().find(|r| r.accessor == "oracle").unwrap();
        assert!(oracle.flagged, "{oracle:?}");
        assert!(
            oracle.reasons.iter().any(|r| r.contains("too few Analytics accounts")),
            "{:?}",
            oracle.reasons
        );
        // A doctor's reasons never carry the note: its role is its baseline.
        assert!(reports
            .iter()
            .filter(|r| r.role == "Doctor")
            .all(|r| r.reasons.iter().all(|t| !t.contains("too few"))));
    }

    #[test]
    fn an_accounts_role_is_its_latest_lines() {
        let mut lines = ward(Vec::new());
        let mut early = line("doctor3", "Lab", "patient3-0", T0 - DAY);
        early.category = "LabResult".into();
        lines.insert(0, early);
        let reports = detect(&lines, &DetectorConfig::default());
        assert_eq!(reports.iter().find(|r| r.accessor == "doctor3").unwrap().role, "Doctor");
    }
}
