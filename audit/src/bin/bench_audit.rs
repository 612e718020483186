//! Evaluates the detector against the rule baseline on synthetic hospitals it was not tuned on:
//! the flagging threshold is set on one seed and size (a 1 % false-positive rate among its
//! normal accounts), then ROC AUC, precision at the number of true attackers and recall at a
//! 1 % false-positive rate are reported per attack type on other seeds and sizes, with the
//! detector's throughput. Run through `scripts/bench-audit.sh`.

use std::{collections::HashMap, time::Instant};

use ehr_audit::{
    detect,
    detect::rule_baseline,
    eval::{precision_at_k, recall_at_fpr, roc_auc},
    sim::{generate, AttackKind, SimConfig, Traffic},
    DetectorConfig,
};

fn fmt(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// Scores of the attackers of `kind` (all attackers for `None`) and of the normal accounts.
fn split(traffic: &Traffic, scores: &HashMap<String, f64>, kind: Option<AttackKind>) -> (Vec<f64>, Vec<f64>) {
    let mut positives = Vec::new();
    let mut negatives = Vec::new();
    for (accessor, label) in &traffic.labels {
        let Some(&score) = scores.get(accessor) else { continue };
        match (label, kind) {
            (None, _) => negatives.push(score),
            (Some(k), Some(kind)) if *k == kind => positives.push(score),
            (Some(_), None) => positives.push(score),
            _ => {}
        }
    }
    (positives, negatives)
}

fn metrics(positives: &[f64], negatives: &[f64]) -> [Option<f64>; 3] {
    let scored: Vec<(f64, bool)> =
        positives.iter().map(|&s| (s, true)).chain(negatives.iter().map(|&s| (s, false))).collect();
    [
        roc_auc(positives, negatives),
        precision_at_k(&scored, positives.len()),
        recall_at_fpr(positives, negatives, 0.01),
    ]
}

fn main() {
    // Tuning: seed 1, the medium hospital.
    let tuning = SimConfig { seed: 1, ..SimConfig::default() };
    let traffic = generate(&tuning);
    let mut config = DetectorConfig::default();
    let reports = detect(&traffic.lines, &config);
    let mut normal: Vec<f64> = reports
        .iter()
        .filter(|r| traffic.labels.get(&r.accessor).is_some_and(Option::is_none))
        .map(|r| r.score)
        .collect();
    normal.sort_by(|a, b| b.total_cmp(a));
    let allowed = normal.len() / 100;
    config.threshold = normal.get(allowed).map_or(config.threshold, |s| s + 1e-9);
    println!(
        "Tuned on seed {} ({} patients, {} departments × {} doctors, {} days, {} lines): flag at score ≥ {:.3} (1 % of its normal accounts above)",
        tuning.seed,
        tuning.patients,
        tuning.departments,
        tuning.doctors_per_department,
        tuning.days,
        traffic.lines.len(),
        config.threshold
    );

    let hospitals = [
        (
            "small",
            SimConfig {
                seed: 2,
                patients: 1_000,
                departments: 6,
                doctors_per_department: 8,
                days: 90,
                attackers_per_kind: 3,
            },
        ),
        ("medium", SimConfig { seed: 3, ..SimConfig::default() }),
        (
            "large",
            SimConfig {
                seed: 4,
                patients: 5_000,
                departments: 12,
                doctors_per_department: 12,
                days: 120,
                attackers_per_kind: 4,
            },
        ),
    ];
    for (name, sim) in hospitals {
        let traffic = generate(&sim);
        let start = Instant::now();
        let reports = detect(&traffic.lines, &config);
        let elapsed = start.elapsed().as_secs_f64();
        let detector: HashMap<String, f64> = reports.iter().map(|r| (r.accessor.clone(), r.score)).collect();
        let baseline = rule_baseline(&traffic.lines, config.window_ms);
        let accounts = traffic.labels.len();
        let attackers = traffic.labels.values().filter(|k| k.is_some()).count();
        println!();
        println!(
            "{name} hospital, seed {}: {} patients, {} departments × {} doctors, {} days: {} lines, {accounts} accounts, {attackers} attackers",
            sim.seed, sim.patients, sim.departments, sim.doctors_per_department, sim.days, traffic.lines.len()
        );
        println!(
            "{:<16} {:>3}  {:>9} {:>9} {:>9}  {:>9} {:>9} {:>9}",
            "attack", "n", "AUC", "P@n", "R@1%FPR", "rule AUC", "rule P@n", "rule R@1%"
        );
        let kinds: Vec<Option<AttackKind>> =
            AttackKind::ALL.iter().copied().map(Some).chain([None]).collect();
        for kind in kinds {
            let (pos, neg) = split(&traffic, &detector, kind);
            let (rule_pos, rule_neg) = split(&traffic, &baseline, kind);
            let [auc, p, r] = metrics(&pos, &neg);
            let [rule_auc, rule_p, rule_r] = metrics(&rule_pos, &rule_neg);
            let label = kind.map_or("all".to_string(), |k| format!("{k:?}"));
            println!(
                "{label:<16} {:>3}  {:>9} {:>9} {:>9}  {:>9} {:>9} {:>9}",
                pos.len(),
                fmt(auc),
                fmt(p),
                fmt(r),
                fmt(rule_auc),
                fmt(rule_p),
                fmt(rule_r)
            );
        }
        let flagged: Vec<_> = reports.iter().filter(|r| r.flagged).collect();
        let true_flags =
            flagged.iter().filter(|r| traffic.labels.get(&r.accessor).is_some_and(Option::is_some)).count();
        println!(
            "flagged at the tuned threshold: {} accounts, {true_flags} of them attackers ({} of {} normal accounts flagged)",
            flagged.len(),
            flagged.len() - true_flags,
            accounts - attackers
        );
        println!(
            "detector: {} events in {:.2} s = {:.0} events/s (one core)",
            traffic.lines.len(),
            elapsed,
            traffic.lines.len() as f64 / elapsed.max(1e-9)
        );
    }
}
