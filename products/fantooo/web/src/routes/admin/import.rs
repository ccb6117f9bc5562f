//! Bulk profile import from CSV or JSON, validated row by row: good rows
//! are created, bad rows are reported with their line and what is wrong.

use super::profiles::{validate, ProfileForm};
use fantooo_domain::FieldErrors;
use fantooo_store::profiles::NewProfile;
use serde::Serialize;

/// The outcome of one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    /// 1-based data row (the CSV header is not counted).
    pub row: usize,
    pub name: String,
    pub created: Option<String>,
    pub errors: Vec<String>,
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas,
/// doubled quotes and line breaks).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Turns CSV (first row = column names) or a JSON array of objects into
/// forms; list columns in CSV separate items with `|`.
pub fn forms(text: &str) -> Result<Vec<ProfileForm>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<serde_json::Value> = serde_json::from_str(trimmed).map_err(|e| format!("Invalid JSON: {e}"))?;
        return items
            .into_iter()
            .map(|v| {
                let serde_json::Value::Object(map) = v else { return Err("Each JSON item must be an object".to_string()) };
                let flat: serde_json::Map<String, serde_json::Value> = map
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let s = match v {
                            serde_json::Value::Null => return None,
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Array(a) => a
                                .into_iter()
                                .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                                .collect::<Vec<_>>()
                                .join("\n"),
                            other => other.to_string(),
                        };
                        Some((k, serde_json::Value::String(s)))
                    })
                    .collect();
                serde_json::from_value(serde_json::Value::Object(flat)).map_err(|e| e.to_string())
            })
            .collect();
    }
    let mut rows = parse_csv(text)?.into_iter();
    let header: Vec<String> = rows.next().ok_or("The file is empty")?.into_iter().map(|h| h.trim().to_lowercase()).collect();
    if !header.iter().any(|h| h == "name") {
        return Err("The first row must name the columns (name, age, gender, location, bio, profile_pictures, …)".into());
    }
    rows.map(|r| {
        let map: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(r)
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| {
                // Multi-value cells use `|`; the form reads one item per line.
                let v = if matches!(k.as_str(), "profile_pictures" | "response_templates") {
                    v.split('|').collect::<Vec<_>>().join("\n")
                } else {
                    v
                };
                (k.clone(), serde_json::Value::String(v))
            })
            .collect();
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())
    })
    .collect()
}

/// Validates every row; returns the valid profiles with their row numbers
/// and a report entry for each row.
pub fn check_rows(forms: &[ProfileForm]) -> (Vec<(usize, NewProfile)>, Vec<RowReport>) {
    let mut good = vec![];
    let mut report = vec![];
    for (i, f) in forms.iter().enumerate() {
        let row = i + 1;
        let name = f.name.clone().unwrap_or_default();
        match validate(f) {
            Ok(p) => {
                good.push((row, p));
                report.push(RowReport { row, name, created: None, errors: vec![] });
            }
            Err(FieldErrors(errs)) => report.push(RowReport {
                row,
                name,
                created: None,
                errors: errs.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
            }),
        }
    }
    (good, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_commas_and_newlines() {
        let rows = parse_csv("name,bio\n\"Amani, 26\",\"Says \"\"hi\"\"\nand more\"\r\nZuri,plain\n\n").unwrap();
        assert_eq!(rows, vec![vec!["name", "bio"], vec!["Amani, 26", "Says \"hi\"\nand more"], vec!["Zuri", "plain"]]);
        assert!(parse_csv("a,\"open").is_err());
    }

    #[test]
    fn json_and_csv_give_the_same_forms() {
        let csv = "name,age,profile_pictures\nAmani,26,/media/a.png|/media/b.png|/media/c.png\n";
        let json = r#"[{"name":"Amani","age":26,"profile_pictures":["/media/a.png","/media/b.png","/media/c.png"]}]"#;
        let (a, b) = (forms(csv).unwrap(), forms(json).unwrap());
        assert_eq!(a[0].age, b[0].age);
        assert_eq!(a[0].profile_pictures, b[0].profile_pictures);
    }
}

/// The hand-written CSV reader against arbitrary text: an error value or
/// records, never a panic, and whatever we quote it reads back exactly.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// RFC 4180 quoting of every field.
    fn to_csv(rows: &[Vec<String>]) -> String {
        rows.iter().map(|r| r.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect::<Vec<_>>().join(",") + "\r\n").collect()
    }

    /// Rows the reader keeps: a lone empty field is a blank line, which it skips.
    fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
        let field = prop_oneof!["\\PC{0,12}", "[\",\r\n a]{0,6}"];
        proptest::collection::vec(proptest::collection::vec(field, 1..5), 0..6)
            .prop_map(|rows| rows.into_iter().filter(|r| !(r.len() == 1 && r[0].is_empty())).collect())
    }

    fn hostile_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[\",\r\n|a\\[\\]{}:]{0,40}",
            "name,age\n[^\"]{0,60}",
            "\\[\\PC{0,40}\\]?",
            " *\\[\\{\"name\":[\"0-9a-z\\[\\]{},]{0,30}"
        ]
    }

    proptest! {
        #[test]
        fn quoted_tables_read_back_unchanged(rows in table()) {
            prop_assert_eq!(parse_csv(&to_csv(&rows)).unwrap(), rows);
        }

        #[test]
        fn arbitrary_text_is_records_or_an_error(text in hostile_text()) {
            let _ = parse_csv(&text);
            if let Ok(forms) = forms(&text) {
                let (good, report) = check_rows(&forms);
                prop_assert_eq!(report.len(), forms.len());
                prop_assert!(good.len() <= forms.len());
            }
        }
    }
}
