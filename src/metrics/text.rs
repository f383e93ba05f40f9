//! The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` once per
//! family, one `name{label="value",…} number` line per sample (label values escaped), and a
//! histogram as cumulative `_bucket{le="…"}` samples ending with `le="+Inf"`, then `_sum`
//! and `_count`.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::HistogramSnapshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A scrape's text, written family by family.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts a family: its help text and type. Its samples follow.
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let help = escape(help, false);
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.name());
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, help: &str, kind: Kind, value: f64) {
        self.family(name, help, kind);
        self.sample(name, &[], value);
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.text, " {}", number(value));
    }

    /// The samples of one histogram: cumulative buckets, `+Inf` last, then sum and count.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], snapshot: &HistogramSnapshot) {
        for (bound, count) in &snapshot.cumulative {
            let _ = write!(self.text, "{name}_bucket");
            self.labels(labels, Some(("le", &number(*bound))));
            let _ = writeln!(self.text, " {count}");
        }
        let _ = write!(self.text, "{name}_sum");
        self.labels(labels, None);
        let _ = writeln!(self.text, " {}", number(snapshot.sum_seconds));
        let _ = write!(self.text, "{name}_count");
        self.labels(labels, None);
        let _ = writeln!(self.text, " {}", snapshot.count);
    }

    pub fn finish(self) -> String {
        self.text
    }

    fn labels(&mut self, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        let mut all = labels.iter().copied().chain(extra).peekable();
        if all.peek().is_none() {
            return;
        }
        self.text.push('{');
        for (index, (name, value)) in all.enumerate() {
            if index > 0 {
                self.text.push(',');
            }
            let _ = write!(self.text, "{name}=\"{}\"", escape(value, true));
        }
        self.text.push('}');
    }
}

/// Backslash and newline are escaped everywhere; the double quote in label values only.
fn escape(text: &str, label_value: bool) -> Cow<'_, str> {
    let special = |c: char| c == '\\' || c == '\n' || (label_value && c == '"');
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '"' if label_value => escaped.push_str("\\\""),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Go's float syntax as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, else plain decimal.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        let mut out = Exposition::default();
        out.sample("m", &[("route", "a\\b\"c\nd")], 1.0);
        assert_eq!(out.finish(), "m{route=\"a\\\\b\\\"c\\nd\"} 1\n");
    }

    #[test]
    fn help_escapes_backslash_and_newline_but_not_quotes() {
        let mut out = Exposition::default();
        out.family("m", "say \"hi\"\\\nbye", Kind::Counter);
        assert_eq!(
            out.finish(),
            "# HELP m say \"hi\"\\\\\\nbye\n# TYPE m counter\n"
        );
    }

    #[test]
    fn samples_without_labels_have_no_braces() {
        let mut out = Exposition::default();
        out.sample("cameo_photos_stored", &[], 3.0);
        out.sample("ratio", &[("a", "x"), ("b", "y")], 0.25);
        assert_eq!(
            out.finish(),
            "cameo_photos_stored 3\nratio{a=\"x\",b=\"y\"} 0.25\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_and_end_with_inf_sum_and_count() {
        let snapshot = HistogramSnapshot {
            cumulative: vec![(0.005, 1), (0.5, 3), (f64::INFINITY, 4)],
            sum_seconds: 2.5,
            count: 4,
        };
        let mut out = Exposition::default();
        out.histogram("d_seconds", &[("route", "/x")], &snapshot);
        assert_eq!(
            out.finish(),
            "d_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n\
             d_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n\
             d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n\
             d_seconds_sum{route=\"/x\"} 2.5\n\
             d_seconds_count{route=\"/x\"} 4\n"
        );
    }

    #[test]
    fn histograms_without_labels_carry_only_le() {
        let snapshot = HistogramSnapshot {
            cumulative: vec![(1.0, 0), (f64::INFINITY, 0)],
            sum_seconds: 0.0,
            count: 0,
        };
        let mut out = Exposition::default();
        out.histogram("r", &[], &snapshot);
        assert_eq!(
            out.finish(),
            "r_bucket{le=\"1\"} 0\nr_bucket{le=\"+Inf\"} 0\nr_sum 0\nr_count 0\n"
        );
    }

    #[test]
    fn special_numbers_use_prometheus_spelling() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(0.0005), "0.0005");
    }
}
