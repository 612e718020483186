//! A seeded synthetic hospital and its audit trail, with injected attacks: the detector's test
//! bench (`scripts/bench-audit.sh`).
//!
//! The hospital: departments (the first is the emergency department) of doctors on day or night
//! shifts, five days a week; patients with episodes of care in a department, each with a care
//! team of two to four of its doctors and sometimes a consultant, one of the two liaison doctors
//! of the department it refers to; labs writing results around the clock, pharmacies reading prescriptions by day,
//! insurers reading bills after discharge, the risk oracle reading summaries at night. Patients
//! consent per episode (the care team; sometimes the whole department), and some let every
//! doctor read their summary. Normal traffic includes its own denials (follow-ups after a grant
//! expired, categories out of scope, pre-admission lookups without consent) and emergency
//! break-glass in the emergency department, reviewed and accepted by an auditor.
//!
//! Attacks, injected into the second half of the period by accounts that otherwise behave
//! normally ([`AttackKind`]): snooping on patients outside one's care community, bulk
//! exfiltration by an account holding many grants, probing (many denied requests), a compromised
//! account whose behaviour changes, and break-glass abuse.

use std::collections::BTreeMap;

use ehr_types::{ss58, AccountId};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::line::{AuditLine, Decision, Mode, Review};

/// 2026-01-01T00:00:00Z, the first day of every simulation.
pub const START_MS: u64 = 1_767_225_600_000;
const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;
/// The chain's block time.
const BLOCK_MS: u64 = 6_000;

/// The attacks injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AttackKind {
    /// Reads patients outside the care community (VIP, colleague, neighbour).
    Snooping,
    /// Reads everything an account with many grants can, in a burst.
    Exfiltration,
    /// Many requests without a grant or beyond the scope: mostly denied.
    Probing,
    /// A stolen account: night-time reads of strangers' charts and unusual categories.
    Compromised,
    /// Break-glass opened on patients without a care relationship, never accepted.
    BreakGlassAbuse,
}

impl AttackKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AttackKind; 5] = [
        AttackKind::Snooping,
        AttackKind::Exfiltration,
        AttackKind::Probing,
        AttackKind::Compromised,
        AttackKind::BreakGlassAbuse,
    ];
}

/// The hospital's size and the attacks' number.
#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    /// Seed of everything random.
    pub seed: u64,
    /// Patients (at least 10).
    pub patients: usize,
    /// Departments (at most 12; the first is the emergency department).
    pub departments: usize,
    /// Doctors in each department.
    pub doctors_per_department: usize,
    /// Days of traffic.
    pub days: u32,
    /// Attackers of each kind.
    pub attackers_per_kind: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            patients: 2_000,
            departments: 8,
            doctors_per_department: 10,
            days: 120,
            attackers_per_kind: 3,
        }
    }
}

/// A simulated trail and who is an attacker.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// The access decisions, oldest first.
    pub lines: Vec<AuditLine>,
    /// Every accessor (SS58) and its attack, `None` for the normal ones.
    pub labels: BTreeMap<String, Option<AttackKind>>,
}

const DEPARTMENTS: [&str; 12] = [
    "emergency",
    "cardiology",
    "internal-medicine",
    "oncology",
    "pediatrics",
    "surgery",
    "neurology",
    "obstetrics",
    "orthopedics",
    "psychiatry",
    "nephrology",
    "pulmonology",
];

/// Categories a doctor asks for, with weights.
const DOCTOR_CATEGORIES: [(&str, u32); 7] = [
    ("ClinicalNote", 30),
    ("LabResult", 20),
    ("Vitals", 15),
    ("Medication", 15),
    ("Summary", 10),
    ("Condition", 5),
    ("Imaging", 5),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    Day,
    Night,
}

struct Accessor {
    address: String,
    role: &'static str,
    department: Option<usize>,
    shift: Shift,
    day_off: u32,
}

impl Accessor {
    fn works(&self, day: u32) -> bool {
        (day + self.day_off) % 7 < 5
    }

    /// Start and end hour of the shift (the end may pass midnight).
    fn hours(&self) -> (u64, u64) {
        match self.shift {
            Shift::Day => (7, 19),
            Shift::Night => (19, 31),
        }
    }
}

struct Patient {
    address: String,
    /// Lets every doctor read its summary.
    hospital_wide: bool,
    /// Lets the oracle read its summary.
    analytics: bool,
    insurer: usize,
}

struct Episode {
    patient: usize,
    department: usize,
    start: u32,
    end: u32,
    team: Vec<usize>,
    /// The department's doctors may read summaries, notes and results.
    department_wide: bool,
}

struct Gen {
    rng: ChaCha8Rng,
    seed: u64,
    lines: Vec<AuditLine>,
    accessors: Vec<Accessor>,
    patients: Vec<Patient>,
    days: u32,
}

fn address(seed: u64, name: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"ehr-audit-sim")
        .chain_update(seed.to_le_bytes())
        .chain_update(name)
        .finalize();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest);
    ss58::encode(&AccountId::from(bytes))
}

impl Gen {
    fn add_accessor(
        &mut self,
        name: &str,
        role: &'static str,
        department: Option<usize>,
        night_share: f64,
    ) -> usize {
        let shift = if self.rng.gen_bool(night_share) { Shift::Night } else { Shift::Day };
        let day_off = self.rng.gen_range(0..7);
        self.accessors.push(Accessor { address: address(self.seed, name), role, department, shift, day_off });
        self.accessors.len() - 1
    }

    /// A time on `day` between `from` and `to` hours (`to` may pass midnight).
    fn at(&mut self, day: u32, from: u64, to: u64) -> u64 {
        let offset = self.rng.gen_range(from * HOUR..to.max(from + 1) * HOUR);
        START_MS + u64::from(day) * DAY + offset
    }

    /// A time within `who`'s shift on `day`.
    fn in_shift(&mut self, who: usize, day: u32) -> u64 {
        let (from, to) = self.accessors[who].hours();
        self.at(day, from, to)
    }

    fn doctor_category(&mut self) -> &'static str {
        let total: u32 = DOCTOR_CATEGORIES.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.gen_range(0..total);
        for (category, weight) in DOCTOR_CATEGORIES {
            if pick < weight {
                return category;
            }
            pick -= weight;
        }
        "ClinicalNote"
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        time_ms: u64,
        patient: usize,
        accessor: usize,
        category: &str,
        mode: Mode,
        denial: Option<&str>,
        emergency: Option<Review>,
    ) {
        if time_ms >= START_MS + u64::from(self.days) * DAY {
            return;
        }
        let who = &self.accessors[accessor];
        self.lines.push(AuditLine {
            block: ((time_ms - START_MS) / BLOCK_MS) as u32 + 1,
            time_ms,
            patient: self.patients[patient].address.clone(),
            accessor: who.address.clone(),
            role: who.role.to_string(),
            category: category.to_string(),
            mode,
            decision: if denial.is_some() { Decision::Denied } else { Decision::Granted },
            reason: denial.map(str::to_string),
            emergency: emergency.is_some(),
            review: emergency,
            case: None,
            seq: None,
            prev: None,
        });
    }

    fn poisson(&mut self, mean: f64) -> u64 {
        match Poisson::new(mean) {
            Ok(poisson) => poisson.sample(&mut self.rng) as u64,
            Err(_) => 0,
        }
    }
}

/// Generates the trail of `config`'s hospital.
pub fn generate(config: &SimConfig) -> Traffic {
    let departments = config.departments.clamp(2, DEPARTMENTS.len());
    let patients = config.patients.max(10);
    let days = config.days.max(28);
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        seed: config.seed,
        lines: Vec::new(),
        accessors: Vec::new(),
        patients: Vec::new(),
        days,
    };

    // Staff.
    let mut doctors: Vec<Vec<usize>> = Vec::new();
    for (d, name) in DEPARTMENTS.iter().enumerate().take(departments) {
        let staff = (0..config.doctors_per_department.max(3))
            .map(|i| g.add_accessor(&format!("doctor/{name}/{i}"), "Doctor", Some(d), 0.2))
            .collect();
        doctors.push(staff);
    }
    let labs: Vec<usize> = (0..(departments / 3).max(2))
        .map(|i| g.add_accessor(&format!("lab/{i}"), "Lab", None, 0.0))
        .collect();
    let pharmacies: Vec<usize> = (0..(departments / 3).max(2))
        .map(|i| g.add_accessor(&format!("pharmacy/{i}"), "Pharmacy", None, 0.0))
        .collect();
    let insurers: Vec<usize> =
        (0..3).map(|i| g.add_accessor(&format!("insurer/{i}"), "Insurer", None, 0.0)).collect();
    let oracle = g.add_accessor("oracle", "Analytics", None, 0.0);

    // Patients and their episodes.
    for i in 0..patients {
        let patient = Patient {
            address: address(config.seed, &format!("patient/{i}")),
            hospital_wide: g.rng.gen_bool(0.3),
            analytics: g.rng.gen_bool(0.5),
            insurer: g.rng.gen_range(0..insurers.len()),
        };
        g.patients.push(patient);
    }
    // Each department refers to one partner department, whose first two doctors consult.
    let partners: Vec<usize> =
        (0..departments).map(|d| (d + g.rng.gen_range(1..departments)) % departments).collect();
    let mut episodes: Vec<Episode> = Vec::new();
    for p in 0..patients {
        let count = g.poisson(f64::from(days) / 60.0);
        for _ in 0..count {
            let department = if g.rng.gen_bool(0.25) { 0 } else { g.rng.gen_range(1..departments) };
            let start = g.rng.gen_range(0..days);
            let mut length = 1;
            while length < 14 && g.rng.gen_bool(0.7) {
                length += 1;
            }
            let size = g.rng.gen_range(2..=4).min(doctors[department].len());
            let mut team: Vec<usize> =
                doctors[department].choose_multiple(&mut g.rng, size).copied().collect();
            // A referral: one of the two liaison doctors of the department's partner.
            if g.rng.gen_bool(0.2) {
                let liaisons = &doctors[partners[department]][..2];
                if let Some(&consultant) = liaisons.choose(&mut g.rng) {
                    if !team.contains(&consultant) {
                        team.push(consultant);
                    }
                }
            }
            let department_wide = g.rng.gen_bool(0.5);
            episodes.push(Episode {
                patient: p,
                department,
                start,
                end: start + length,
                team,
                department_wide,
            });
        }
    }
    // Which departments treated which patient (the snoopers' targets are outside them).
    let mut treated_in: Vec<Vec<usize>> = vec![Vec::new(); patients];
    for e in &episodes {
        treated_in[e.patient].push(e.department);
    }

    for e in &episodes {
        normal_episode(&mut g, e, &doctors, &labs, &pharmacies, &insurers, oracle);
    }
    // Doctors' stray lookups: a wrong patient now and then (denied, no grant).
    for staff in &doctors {
        for &doctor in staff {
            for week in 0..days / 7 {
                if g.rng.gen_bool(0.15) {
                    let day = week * 7 + g.rng.gen_range(0..7);
                    let patient = g.rng.gen_range(0..patients);
                    let t = g.in_shift(doctor, day);
                    g.emit(t, patient, doctor, "Summary", Mode::Read, Some("NoGrant"), None);
                }
            }
        }
    }

    // Attackers: distinct accounts, none of them the oracle.
    let mut labels: BTreeMap<String, Option<AttackKind>> =
        g.accessors.iter().map(|a| (a.address.clone(), None)).collect();
    let mut candidates: Vec<usize> = doctors.iter().flatten().copied().collect();
    candidates.shuffle(&mut g.rng);
    let hospital_wide: Vec<usize> = (0..patients).filter(|&p| g.patients[p].hospital_wide).collect();
    let half = days / 2;
    for kind in AttackKind::ALL {
        for n in 0..config.attackers_per_kind {
            let attacker = match kind {
                AttackKind::Probing if n % 3 == 1 => labs[n % labs.len()],
                AttackKind::Probing if n % 3 == 2 => pharmacies[n % pharmacies.len()],
                AttackKind::Exfiltration if n % 2 == 1 => insurers[n % insurers.len()],
                _ => match candidates.pop() {
                    Some(doctor) => doctor,
                    None => continue,
                },
            };
            if labels.get(&g.accessors[attacker].address).is_some_and(Option::is_some) {
                continue;
            }
            labels.insert(g.accessors[attacker].address.clone(), Some(kind));
            let day = g.rng.gen_range(half..days - 7);
            match kind {
                AttackKind::Snooping => snoop(&mut g, attacker, day, &hospital_wide, &treated_in),
                AttackKind::Exfiltration => exfiltrate(&mut g, attacker, day, &episodes),
                AttackKind::Probing => probe(&mut g, attacker, day),
                AttackKind::Compromised => compromise(&mut g, attacker, day, &hospital_wide),
                AttackKind::BreakGlassAbuse => abuse_break_glass(&mut g, attacker, day, &treated_in),
            }
        }
    }

    g.lines.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then_with(|| a.accessor.cmp(&b.accessor)));
    Traffic { lines: g.lines, labels }
}

#[allow(clippy::too_many_arguments)]
fn normal_episode(
    g: &mut Gen,
    e: &Episode,
    doctors: &[Vec<usize>],
    labs: &[usize],
    pharmacies: &[usize],
    insurers: &[usize],
    oracle: usize,
) {
    let p = e.patient;
    // Emergency department: now and then an unconscious patient without consent, opened under
    // break-glass by the first doctor of the team and accepted by an auditor.
    let emergency = e.department == 0 && g.rng.gen_bool(0.03);
    // A pre-admission lookup: granted when the patient lets every doctor read its summary.
    if g.rng.gen_bool(0.1) && e.start > 0 {
        if let Some(&doctor) = doctors[e.department].choose(&mut g.rng) {
            let t = g.in_shift(doctor, e.start - 1);
            let denial = (!g.patients[p].hospital_wide).then_some("NoGrant");
            g.emit(t, p, doctor, "Summary", Mode::Read, denial, None);
        }
    }
    for day in e.start..e.end {
        for (i, &doctor) in e.team.iter().enumerate() {
            if !g.accessors[doctor].works(day) {
                continue;
            }
            let n = g.poisson(3.0);
            for _ in 0..n {
                let t = g.in_shift(doctor, day);
                if g.rng.gen_bool(0.03) {
                    let category = if g.rng.gen_bool(0.5) { "Billing" } else { "Imaging" };
                    g.emit(t, p, doctor, category, Mode::Read, Some("OutOfScope"), None);
                    continue;
                }
                let category = g.doctor_category();
                let writes = matches!(category, "ClinicalNote" | "Medication" | "Condition" | "Vitals");
                let mode = if writes && g.rng.gen_bool(0.25) { Mode::Write } else { Mode::Read };
                let review = (emergency && i == 0 && day == e.start).then_some(Review::Accepted);
                g.emit(t, p, doctor, category, mode, None, review);
            }
        }
        // A colleague of the department covering (department-wide consent).
        if e.department_wide && g.rng.gen_bool(0.1) {
            if let Some(&colleague) = doctors[e.department].choose(&mut g.rng) {
                if g.accessors[colleague].works(day) {
                    let t = g.in_shift(colleague, day);
                    g.emit(t, p, colleague, "Summary", Mode::Read, None, None);
                }
            }
        }
        // Labs around the clock, pharmacies by day.
        for _ in 0..g.poisson(1.5) {
            let lab = labs[g.rng.gen_range(0..labs.len())];
            let t = g.at(day, 0, 24);
            g.emit(t, p, lab, "LabResult", Mode::Write, None, None);
        }
        for _ in 0..g.poisson(1.0) {
            let pharmacy = pharmacies[g.rng.gen_range(0..pharmacies.len())];
            let t = g.at(day, 8, 22);
            g.emit(t, p, pharmacy, "Medication", Mode::Read, None, None);
        }
        // The oracle scores the new records at night.
        if g.patients[p].analytics && g.rng.gen_bool(0.5) {
            let t = g.at(day + 1, 2, 3);
            g.emit(t, p, oracle, "Summary", Mode::Read, None, None);
        }
    }
    // The bill, read by the patient's insurer on a working day after discharge.
    let insurer = insurers[g.patients[p].insurer];
    let bill_day = e.end + g.rng.gen_range(1..6);
    for _ in 0..g.rng.gen_range(1..=3) {
        let t = g.at(bill_day, 9, 17);
        g.emit(t, p, insurer, "Billing", Mode::Read, None, None);
    }
    // A follow-up after the grant expired (30 days after discharge): denied.
    if g.rng.gen_bool(0.1) {
        let doctor = e.team[0];
        let day = e.end + 30 + g.rng.gen_range(1..20);
        let t = g.in_shift(doctor, day);
        g.emit(t, p, doctor, "ClinicalNote", Mode::Read, Some("GrantExpired"), None);
    }
}

/// Reads of summaries (granted: the patients let every doctor read them) of patients never
/// treated in the snooper's department, on a few days, within its shift.
fn snoop(g: &mut Gen, attacker: usize, day: u32, hospital_wide: &[usize], treated_in: &[Vec<usize>]) {
    let department = g.accessors[attacker].department;
    let targets: Vec<usize> = hospital_wide
        .iter()
        .copied()
        .filter(|&p| department.is_none_or(|d| !treated_in[p].contains(&d)))
        .collect();
    let count = g.rng.gen_range(3..9);
    let victims: Vec<usize> = targets.choose_multiple(&mut g.rng, count).copied().collect();
    for (i, &p) in victims.iter().enumerate() {
        let day = day + (i as u32 % 4);
        let t = g.in_shift(attacker, day);
        g.emit(t, p, attacker, "Summary", Mode::Read, None, None);
        if g.rng.gen_bool(0.3) {
            g.emit(t + 40_000, p, attacker, "ClinicalNote", Mode::Read, Some("OutOfScope"), None);
        }
    }
}

/// Everything readable, patient after patient, in a burst of one or two days.
fn exfiltrate(g: &mut Gen, attacker: usize, day: u32, episodes: &[Episode]) {
    let role = g.accessors[attacker].role;
    let department = g.accessors[attacker].department;
    let mut patients: Vec<usize> = match role {
        "Insurer" => {
            let me = g.accessors[attacker].address.clone();
            (0..g.patients.len()).filter(|&p| g.accessors[insurer_of(g, p)].address == me).collect()
        }
        _ => episodes
            .iter()
            .filter(|e| Some(e.department) == department && e.department_wide)
            .map(|e| e.patient)
            .chain((0..g.patients.len()).filter(|&p| g.patients[p].hospital_wide))
            .collect(),
    };
    patients.sort_unstable();
    patients.dedup();
    patients.shuffle(&mut g.rng);
    let count = g.rng.gen_range(150..400);
    patients.truncate(count);
    for (i, &p) in patients.iter().enumerate() {
        let t = START_MS + u64::from(day) * DAY + (i as u64 * 2 * DAY) / patients.len().max(1) as u64;
        let t = t + g.rng.gen_range(0..60_000);
        match role {
            "Insurer" => {
                g.emit(t, p, attacker, "Billing", Mode::Read, None, None);
                g.emit(t + 5_000, p, attacker, "Condition", Mode::Read, Some("OutOfScope"), None);
            }
            _ => {
                for (k, category) in ["Summary", "ClinicalNote", "LabResult"].iter().enumerate() {
                    g.emit(t + k as u64 * 4_000, p, attacker, category, Mode::Read, None, None);
                }
            }
        }
    }
}

fn insurer_of(g: &Gen, p: usize) -> usize {
    let insurers: Vec<usize> =
        g.accessors.iter().enumerate().filter(|(_, a)| a.role == "Insurer").map(|(i, _)| i).collect();
    insurers[g.patients[p].insurer % insurers.len()]
}

/// Many requests for random patients and categories over several days: mostly no grant.
fn probe(g: &mut Gen, attacker: usize, day: u32) {
    let categories = ["Summary", "ClinicalNote", "Condition", "Medication", "LabResult", "Billing"];
    // From careful to loud: a few to dozens of requests a day.
    let per_day = g.rng.gen_range(5..30);
    for d in 0..g.rng.gen_range(3..7) {
        for _ in 0..per_day {
            let p = g.rng.gen_range(0..g.patients.len());
            let category = categories[g.rng.gen_range(0..categories.len())];
            let t = g.at(day + d, 8, 20);
            let (decision, category) = if g.patients[p].hospital_wide && category == "Summary" {
                (None, category)
            } else if g.rng.gen_bool(0.15) {
                (Some("OutOfScope"), category)
            } else {
                (Some("NoGrant"), category)
            };
            g.emit(t, p, attacker, category, Mode::Read, decision, None);
        }
    }
}

/// From `day` on, nights of reads of strangers' summaries and attempts at their bills and images.
fn compromise(g: &mut Gen, attacker: usize, day: u32, hospital_wide: &[usize]) {
    // From careful to loud: a few to two dozen charts a night.
    let per_night = g.rng.gen_range(3..20);
    for night in 0..g.rng.gen_range(3..6) {
        let count = per_night;
        let victims: Vec<usize> = hospital_wide.choose_multiple(&mut g.rng, count).copied().collect();
        for &p in &victims {
            let t = g.at(day + night * 2, 1, 5);
            g.emit(t, p, attacker, "Summary", Mode::Read, None, None);
            if g.rng.gen_bool(0.5) {
                let category = if g.rng.gen_bool(0.5) { "Billing" } else { "Imaging" };
                g.emit(t + 30_000, p, attacker, category, Mode::Read, Some("OutOfScope"), None);
            }
        }
    }
}

/// Break-glass on patients its department never treated, spread over weeks; an auditor flags
/// some, the others are never reviewed.
fn abuse_break_glass(g: &mut Gen, attacker: usize, day: u32, treated_in: &[Vec<usize>]) {
    let department = g.accessors[attacker].department;
    for case in 0..g.rng.gen_range(4..9) {
        // A patient its department never treated (any patient after a hundred tries).
        let mut p = g.rng.gen_range(0..g.patients.len());
        for _ in 0..100 {
            if department.is_none_or(|d| !treated_in[p].contains(&d)) {
                break;
            }
            p = g.rng.gen_range(0..g.patients.len());
        }
        let case_day = day + case * 2;
        let review = if g.rng.gen_bool(0.4) {
            Review::Flagged
        } else if case_day + 3 < g.days {
            Review::Overdue
        } else {
            Review::Pending
        };
        let t = g.in_shift(attacker, case_day);
        for (k, category) in ["Summary", "ClinicalNote", "Condition", "Medication"].iter().enumerate() {
            g.emit(t + k as u64 * 60_000, p, attacker, category, Mode::Read, None, Some(review));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_trail_and_lines_are_valid() {
        let config = SimConfig {
            patients: 300,
            departments: 4,
            doctors_per_department: 5,
            days: 60,
            ..Default::default()
        };
        let a = generate(&config);
        let b = generate(&config);
        assert_eq!(a.lines, b.lines);
        assert!(a.lines.len() > 1_000, "{} lines", a.lines.len());
        for line in &a.lines {
            line.check().unwrap();
            assert!(a.labels.contains_key(&line.accessor));
        }
        assert!(a.lines.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        for kind in AttackKind::ALL {
            assert!(a.labels.values().filter(|k| **k == Some(kind)).count() >= 1, "{kind:?}");
        }
        let other = generate(&SimConfig { seed: 2, ..config });
        assert_ne!(a.lines, other.lines);
    }
}
