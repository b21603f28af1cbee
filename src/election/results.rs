//! Results per contest, from a decrypted tally.

use serde::{Deserialize, Serialize};

use super::manifest::Manifest;

/// One option's count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionResult {
    /// The option's name.
    pub option: String,
    /// Its count.
    pub count: u64,
}

/// One contest's counts, in ballot order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestResult {
    /// The contest's id.
    pub contest: String,
    /// The counts.
    pub options: Vec<OptionResult>,
}

/// The results of an election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionResults {
    /// The election's id.
    pub election_id: String,
    /// The number of counted ballots.
    pub counted_ballots: u64,
    /// Per contest.
    pub contests: Vec<ContestResult>,
}

impl ElectionResults {
    /// Distributes the flattened counts of a tally (contest after contest) over the manifest.
    /// Returns `None` if their number does not match the manifest.
    pub fn from_counts(manifest: &Manifest, counted_ballots: u64, counts: &[u64]) -> Option<Self> {
        if counts.len() != manifest.option_count() {
            return None;
        }
        let mut rest = counts.iter();
        let contests = manifest
            .contests
            .iter()
            .map(|c| ContestResult {
                contest: c.id.clone(),
                options: c
                    .options
                    .iter()
                    .zip(rest.by_ref())
                    .map(|(name, count)| OptionResult {
                        option: name.clone(),
                        count: *count,
                    })
                    .collect(),
            })
            .collect();
        Some(Self {
            election_id: manifest.election_id.clone(),
            counted_ballots,
            contests,
        })
    }

    /// The counts flattened again, contest after contest.
    pub fn counts(&self) -> Vec<u64> {
        self.contests
            .iter()
            .flat_map(|c| c.options.iter().map(|o| o.count))
            .collect()
    }

    /// Checks the counts against the manifest's limits: each option's count is at most
    /// `ballots·R`, and each contest's total lies in `ballots·min..=ballots·max`.
    pub fn within_bounds(&self, manifest: &Manifest) -> bool {
        let b = self.counted_ballots;
        self.contests.len() == manifest.contests.len()
            && self.contests.iter().zip(&manifest.contests).all(|(r, c)| {
                let total: u128 = r.options.iter().map(|o| u128::from(o.count)).sum();
                r.contest == c.id
                    && r.options.len() == c.options.len()
                    && r.options
                        .iter()
                        .all(|o| u128::from(o.count) <= u128::from(b) * u128::from(c.option_limit))
                    && total >= u128::from(b) * u128::from(c.min_selections)
                    && total <= u128::from(b) * u128::from(c.max_selections)
            })
    }

    /// A plain-text table of the results.
    pub fn table(&self) -> String {
        // Names come from the manifest or a record: escaped for the terminal.
        let safe = crate::text::terminal_safe;
        let mut out = format!(
            "{} ({} counted ballots)\n",
            safe(&self.election_id),
            self.counted_ballots
        );
        for c in &self.contests {
            out.push_str(&format!("  {}\n", safe(&c.contest)));
            for o in &c.options {
                out.push_str(&format!("    {:<24} {:>10}\n", safe(&o.option), o.count));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_map_onto_contests_and_bounds_are_checked() {
        let m = Manifest::example();
        let counts: Vec<u64> = (0..m.option_count() as u64).collect();
        assert!(ElectionResults::from_counts(&m, 10, &counts[1..]).is_none());
        let r = ElectionResults::from_counts(&m, 100, &counts).unwrap();
        assert_eq!(r.counts(), counts);
        assert_eq!(r.contests[1].options[0].option, "Candidate 1");
        assert!(r.table().contains("Candidate 1"));
        // Referendum: 0 + 1 = 1 vote from 100 ballots with min 1: out of bounds.
        assert!(!r.within_bounds(&m));
        let mut ok = vec![60, 40];
        ok.extend([10, 20, 0, 0, 30]);
        ok.extend([10; 8]);
        ok.extend([100, 100, 0, 0]);
        assert!(ElectionResults::from_counts(&m, 100, &ok)
            .unwrap()
            .within_bounds(&m));
    }
}
