//! Results of the hardware benchmarks (`discovery`, `power`): a comfy-table for people, with
//! DESIGN.md's goal on the rows that have one, and JSON for machines (`--json FILE`).

use std::path::Path;

use anyhow::Context as _;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// One row.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// What was measured.
    pub metric: String,
    /// The figure, formatted.
    pub value: String,
    /// DESIGN.md's goal, if the row has one.
    pub goal: Option<String>,
    /// Whether the goal was met.
    pub met: Option<bool>,
}

/// A line without a goal.
pub fn line(metric: impl Into<String>, value: impl Into<String>) -> Line {
    Line {
        metric: metric.into(),
        value: value.into(),
        goal: None,
        met: None,
    }
}

/// A line judged against a goal.
pub fn judged(
    metric: impl Into<String>,
    value: impl Into<String>,
    goal: impl Into<String>,
    met: bool,
) -> Line {
    Line {
        metric: metric.into(),
        value: value.into(),
        goal: Some(goal.into()),
        met: Some(met),
    }
}

/// A printed and saved report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `cairn bench discovery: ...`.
    pub title: String,
    /// The rows.
    pub lines: Vec<Line>,
    /// Remarks under the table.
    pub notes: Vec<String>,
    /// Every figure, for `--json`.
    pub results: serde_json::Value,
}

impl Report {
    /// The table, title and notes.
    pub fn text(&self) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED).set_header([
            "metric",
            "Cairn",
            "goal (DESIGN.md)",
            "met",
        ]);
        for l in &self.lines {
            t.add_row([
                l.metric.clone(),
                l.value.clone(),
                l.goal.clone().unwrap_or_default(),
                match l.met {
                    Some(true) => "✔".to_owned(),
                    Some(false) => "✘".to_owned(),
                    None => String::new(),
                },
            ]);
        }
        let mut out = format!("{}\n{t}\n", self.title);
        for n in &self.notes {
            out.push_str(&format!("{n}\n"));
        }
        out
    }

    /// Print, and write the JSON when asked.
    pub fn emit(&self, json: Option<&Path>) -> anyhow::Result<()> {
        print!("{}", self.text());
        if let Some(path) = json {
            let text = serde_json::to_string_pretty(self)?;
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("results written to {}", path.display());
        }
        Ok(())
    }
}

/// `1.23 s`.
pub fn secs(d: std::time::Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `45 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", super::rss::mb(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_show_goals() {
        let r = Report {
            title: "t".into(),
            lines: vec![
                judged("wall", "3.00 s", "≤ 10 s", true),
                line("cpu", "1.00 s"),
            ],
            notes: vec!["a note".into()],
            results: serde_json::json!({}),
        };
        let text = r.text();
        assert!(
            text.contains("≤ 10 s") && text.contains('✔') && text.ends_with("a note\n"),
            "{text}"
        );
        assert_eq!(secs(std::time::Duration::from_millis(1234)), "1.23 s");
        assert_eq!(megabytes(45_000_000), "45 MB");
    }
}
