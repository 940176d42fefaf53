//! Printing API answers: a table of chosen columns, or the server's JSON as JSON or YAML.

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns chosen for the record type.
    Table,
    /// The server's JSON, pretty-printed.
    Json,
    /// The server's JSON as YAML.
    Yaml,
}

/// One table column: a header and a dotted path into each record. Arrays along the path are
/// mapped and joined with commas (`IPAddresses.IPAddress`).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column title.
    pub header: &'static str,
    /// Dotted path into the record.
    pub path: &'static str,
}

/// Shorthand for a [`Column`].
pub const fn col(header: &'static str, path: &'static str) -> Column {
    Column { header, path }
}

/// How to show one kind of record as a table.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Key of the wrapping object that holds the list (`Components`), if any.
    pub list_key: Option<&'static str>,
    /// The columns.
    pub columns: &'static [Column],
}

/// Render an answer in `format`; tables use `view`.
pub fn render(value: &Value, format: Format, view: &View) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(value)? + "\n",
        Format::Yaml => serde_yaml_ng::to_string(value)?,
        Format::Table => table(&records(value, view.list_key), view.columns),
    })
}

/// Render and print to stdout.
pub fn print(value: &Value, format: Format, view: &View) -> anyhow::Result<()> {
    print!("{}", render(value, format, view)?);
    Ok(())
}

/// Report a finished write: the server's answer in json/yaml mode, else a one-line message.
pub fn done(value: &Value, format: Format, message: &str) -> anyhow::Result<()> {
    match format {
        Format::Table => println!("{message}"),
        Format::Json | Format::Yaml if value.is_null() => eprintln!("{message}"),
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml => print!("{}", serde_yaml_ng::to_string(value)?),
    }
    Ok(())
}

/// The records in an answer: a bare array, an array under `list_key`, or one object.
pub fn records(value: &Value, list_key: Option<&str>) -> Vec<Value> {
    if let Some(items) = value.as_array() {
        return items.clone();
    }
    if let Some(items) = list_key
        .and_then(|k| value.get(k))
        .and_then(Value::as_array)
    {
        return items.clone();
    }
    match value {
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// A borderless, aligned table.
pub fn table(rows: &[Value], columns: &[Column]) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|c| c.header));
    for row in rows {
        t.add_row(columns.iter().map(|c| cell(row, c.path)));
    }
    let mut out: String = t.lines().map(|l| l.trim_end().to_owned() + "\n").collect();
    if rows.is_empty() {
        out.push_str("(none)\n");
    }
    out
}

/// The text of one cell: strings bare, missing as empty, arrays joined with commas.
pub fn cell(record: &Value, path: &str) -> String {
    let mut values = vec![record];
    for key in path.split('.') {
        values = values
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().filter_map(|i| i.get(key)).collect(),
                other => other.get(key).into_iter().collect::<Vec<_>>(),
            })
            .collect();
    }
    values.into_iter().map(scalar).collect::<Vec<_>>().join(",")
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VIEW: View = View {
        list_key: Some("Components"),
        columns: &[
            col("ID", "ID"),
            col("NID", "NID"),
            col("IPS", "IPs.IPAddress"),
        ],
    };

    #[test]
    fn cells_follow_paths_through_arrays() {
        let r = json!({"ID": "x1", "NID": 7, "IPs": [{"IPAddress": "10.0.0.1"}, {"IPAddress": "10.0.0.2"}],
                       "members": {"ids": ["a", "b"]}, "Gone": null});
        assert_eq!(cell(&r, "ID"), "x1");
        assert_eq!(cell(&r, "NID"), "7");
        assert_eq!(cell(&r, "IPs.IPAddress"), "10.0.0.1,10.0.0.2");
        assert_eq!(cell(&r, "members.ids"), "a,b");
        assert_eq!(cell(&r, "Gone"), "");
        assert_eq!(cell(&r, "Missing.Deeper"), "");
    }

    #[test]
    fn tables_list_wrapped_records_in_order() {
        let v = json!({"Components": [{"ID": "x1000c0s0b0n0", "NID": 1}, {"ID": "x1000c0s0b0n1", "NID": 2}]});
        let out = render(&v, Format::Table, &VIEW).expect("renders");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].contains("ID") && lines[0].contains("NID") && lines[0].contains("IPS"));
        assert!(lines[1].contains("x1000c0s0b0n0") && lines[1].contains(" 1"));
        assert!(lines[2].contains("x1000c0s0b0n1"));
        assert!(out.lines().all(|l| l == l.trim_end()));
    }

    #[test]
    fn single_objects_and_empty_lists() {
        let one = render(&json!({"ID": "x1"}), Format::Table, &VIEW).expect("renders");
        assert_eq!(one.lines().count(), 2);
        let none = render(&json!({"Components": []}), Format::Table, &VIEW).expect("renders");
        assert!(none.ends_with("(none)\n"));
    }

    #[test]
    fn json_and_yaml_print_what_the_server_sent() {
        let v = json!({"Components": [{"ID": "x1", "Extra": {"k": true}}]});
        let j = render(&v, Format::Json, &VIEW).expect("renders");
        assert_eq!(serde_json::from_str::<Value>(&j).expect("json"), v);
        let y = render(&v, Format::Yaml, &VIEW).expect("renders");
        assert_eq!(serde_yaml_ng::from_str::<Value>(&y).expect("yaml"), v);
    }
}
