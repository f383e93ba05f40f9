//! What an import says: one line per account as soon as it is written ([`AccountReport`]),
//! and the totals printed last ([`ImportTotals`]), which decide the exit status.

use std::fmt;

/// What happened to one account (or to the operator's addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    Updated,
    Unchanged,
    Skipped(String),
}

/// One line of an import's output.
#[derive(Debug, Clone)]
pub struct AccountReport {
    pub who: String,
    pub outcome: Outcome,
    pub addresses: usize,
    pub photos: usize,
    pub profile: bool,
    /// Addresses, photos or a profile left out, each with its reason.
    pub skipped: Vec<String>,
}

impl AccountReport {
    /// An account left out as a whole, before anything of it was written.
    pub(super) fn skipped_account(who: String, reason: &str) -> AccountReport {
        AccountReport {
            who,
            outcome: Outcome::Skipped(reason.to_string()),
            addresses: 0,
            photos: 0,
            profile: false,
            skipped: Vec::new(),
        }
    }
}

impl fmt::Display for AccountReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match &self.outcome {
            Outcome::Imported => "imported",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped(reason) => return write!(f, "skipped   {}: {reason}", self.who),
        };
        write!(f, "{word:<9} {}", self.who)?;
        if self.outcome != Outcome::Unchanged {
            write!(
                f,
                ": {} address(es), {} photo(s){} written",
                self.addresses,
                self.photos,
                if self.profile { ", profile" } else { "" }
            )?;
        }
        if !self.skipped.is_empty() {
            write!(f, "; skipped {}", self.skipped.join("; "))?;
        }
        Ok(())
    }
}

/// Totals of an import, printed last.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportTotals {
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Addresses, photos and profiles skipped inside accounts that were imported.
    pub items_skipped: usize,
}

impl ImportTotals {
    pub(super) fn count(&mut self, report: &AccountReport) {
        match report.outcome {
            Outcome::Imported => self.imported += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
        self.items_skipped += report.skipped.len();
    }

    /// Whether anything was left out: the command then exits non-zero.
    pub fn anything_skipped(&self) -> bool {
        self.skipped + self.items_skipped > 0
    }
}

impl fmt::Display for ImportTotals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} imported, {} updated, {} unchanged, {} skipped; {} address(es), photo(s) or profile(s) skipped",
            self.imported, self.updated, self.unchanged, self.skipped, self.items_skipped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_name_the_account_and_every_skip() {
        let report = AccountReport {
            who: "a@example.org".into(),
            outcome: Outcome::Updated,
            addresses: 1,
            photos: 0,
            profile: false,
            skipped: vec!["address b@example.org: held by another account here".into()],
        };
        assert_eq!(
            report.to_string(),
            "updated   a@example.org: 1 address(es), 0 photo(s) written; skipped address \
             b@example.org: held by another account here"
        );
        let mut totals = ImportTotals::default();
        totals.count(&report);
        assert!(totals.anything_skipped());
    }
}
