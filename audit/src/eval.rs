//! Ranking metrics of a detector's scores against labels.

/// ROC AUC: the probability that a random positive scores above a random negative (ties count
/// half; Mann–Whitney U). `None` without positives or negatives.
pub fn roc_auc(positives: &[f64], negatives: &[f64]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut negatives = negatives.to_vec();
    negatives.sort_by(f64::total_cmp);
    let mut wins = 0.0;
    for &p in positives {
        let below = negatives.partition_point(|&n| n < p);
        let not_above = negatives.partition_point(|&n| n <= p);
        wins += below as f64 + (not_above - below) as f64 / 2.0;
    }
    Some(wins / (positives.len() as f64 * negatives.len() as f64))
}

/// Precision among the `k` highest scores (ties broken against the positives, so a detector
/// that scores everything alike gets no credit). `scored` pairs a score with "is positive".
pub fn precision_at_k(scored: &[(f64, bool)], k: usize) -> Option<f64> {
    if k == 0 || scored.is_empty() {
        return None;
    }
    let mut sorted = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let k = k.min(sorted.len());
    Some(sorted[..k].iter().filter(|(_, positive)| *positive).count() as f64 / k as f64)
}

/// Recall at a false-positive rate: the share of positives scoring strictly above the
/// threshold that lets at most `fpr` of the negatives through.
pub fn recall_at_fpr(positives: &[f64], negatives: &[f64], fpr: f64) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut negatives = negatives.to_vec();
    negatives.sort_by(|a, b| b.total_cmp(a));
    let allowed = (fpr * negatives.len() as f64).floor() as usize;
    let threshold = negatives.get(allowed).copied().unwrap_or(f64::NEG_INFINITY);
    Some(positives.iter().filter(|&&p| p > threshold).count() as f64 / positives.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_random_and_tied_rankings() {
        assert_eq!(roc_auc(&[0.9, 0.8], &[0.1, 0.2, 0.3]), Some(1.0));
        assert_eq!(roc_auc(&[0.1], &[0.9]), Some(0.0));
        assert_eq!(roc_auc(&[0.5, 0.5], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[], &[0.5]), None);
        let scored = [(0.9, true), (0.8, false), (0.7, true), (0.1, false)];
        assert_eq!(precision_at_k(&scored, 2), Some(0.5));
        assert_eq!(precision_at_k(&[(0.5, true), (0.5, false)], 1), Some(0.0), "ties count against");
        // 100 negatives at 0..1; 1 % lets one through: positives must beat the second highest.
        let negatives: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        assert_eq!(recall_at_fpr(&[0.995, 0.985, 0.2], &negatives, 0.01), Some(2.0 / 3.0));
    }
}
