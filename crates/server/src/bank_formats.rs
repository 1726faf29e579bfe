//! Bank exchange formats: CSV, JSON lines and the ThreatExchange / HMA PDQ signal file.
//!
//! Issue 5 ("admins import/export banks"), design.md §5 ("Exchange"). Parsing checks every line and
//! reports every bad one with its line number, so a 100,000-line list is fixed in one pass; the
//! caller decides whether bad lines abort the import. A record is one line in every format (CSV
//! fields may be quoted, but not span lines). Formats and their sources: docs/banks.md. Used by
//! `staydown bank import|export` and by the console's bank page (`/staff/banks`).

use staydown_domain::bank::{EntryDraft, NewEntry, validate_entry};
use staydown_store::BankEntry;

/// An exchange format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with the header `pdq,quality,sha256,md5,note`.
    Csv,
    /// One JSON object per line: `{"pdq", "quality", "sha256", "md5", "note", "reason"}`.
    Json,
    /// ThreatExchange / HMA PDQ signal file: `pdq <hex>` per line (legacy `.te` CSV rows on import).
    Te,
}

impl Format {
    /// Every format, in the order forms offer them.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Json, Format::Te];

    /// The format's name on the command line and in forms: `csv`, `json`, `te`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Te => "te",
        }
    }

    /// Parses `csv`, `json` or `te`.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The CSV header staydown writes (and the columns it reads).
pub const CSV_HEADER: &str = "pdq,quality,sha256,md5,note";

/// A line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong, in English (the command line's text).
    pub message: String,
    /// What is wrong, as data, for pages that say it in their own language.
    pub reason: LineReason,
}

/// Why a line could not be imported (the [`LineError::message`] as data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineReason {
    /// A CSV quote opens inside a field, is followed by text after it closes, or never closes.
    Quoting,
    /// The CSV header names a column that is not read (the column's name).
    UnknownColumn(String),
    /// The line has another number of fields than the CSV header.
    FieldCount {
        /// Fields on the line.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A JSON line that is not an object with a bank entry's fields.
    NotJson,
    /// A ThreatExchange signal of a type other than `pdq` (the type as written).
    SignalType(String),
    /// A field of the entry is not accepted: `pdq`, `quality`, `sha256`, `md5`, `note` or
    /// `reason`, with the validation code (`invalid`, `required`, `too_long`;
    /// `staydown_domain::bank::validate_entry`).
    Field {
        /// The field.
        field: String,
        /// The validation code.
        code: &'static str,
    },
}

impl LineError {
    fn new(line: usize, reason: LineReason, message: impl Into<String>) -> LineError {
        LineError { line, message: message.into(), reason }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Everything read from a file: the good entries (with their line numbers) and every bad line.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Valid entries.
    pub entries: Vec<(usize, NewEntry)>,
    /// Bad lines, in file order.
    pub errors: Vec<LineError>,
}

/// Splits one CSV record (RFC 4180 quoting, one line).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => quoted = true,
            (false, '"') => return Err("a quote inside an unquoted field".into()),
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',')) {
                    return Err("text after a closing quote".into());
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            (_, c) => field.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\"").replace(['\n', '\r'], " "))
    } else {
        value.to_owned()
    }
}

fn validated(parsed: &mut Parsed, line: usize, draft: EntryDraft) {
    match validate_entry(draft) {
        Ok(entry) => parsed.entries.push((line, entry)),
        Err(errors) => {
            for e in errors.0 {
                let reason = LineReason::Field { field: e.field.clone(), code: e.code };
                parsed.errors.push(LineError::new(line, reason, format!("{}: {}", e.field, e.message)));
            }
        }
    }
}

fn parse_csv(text: &str, parsed: &mut Parsed) {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let Some((_, header)) = lines.find(|(_, l)| !l.trim().is_empty()) else { return };
    let columns: Vec<String> = match csv_fields(header) {
        Ok(c) => c.into_iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return parsed.errors.push(LineError::new(1, LineReason::Quoting, format!("header: {e}"))),
    };
    let known = ["pdq", "quality", "sha256", "md5", "note", "reason"];
    if let Some(bad) = columns.iter().find(|c| !known.contains(&c.as_str())) {
        return parsed.errors.push(LineError::new(
            1,
            LineReason::UnknownColumn(bad.clone()),
            format!("unknown column `{bad}`; the header is {CSV_HEADER} (reason optional)"),
        ));
    }
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let fields = match csv_fields(text) {
            Ok(f) if f.len() == columns.len() => f,
            Ok(f) => {
                let (found, expected) = (f.len(), columns.len());
                let reason = LineReason::FieldCount { found, expected };
                parsed.errors.push(LineError::new(line, reason, format!("{found} fields, the header has {expected}")));
                continue;
            }
            Err(e) => {
                parsed.errors.push(LineError::new(line, LineReason::Quoting, e));
                continue;
            }
        };
        let mut draft = EntryDraft::default();
        let mut bad_quality = false;
        for (column, value) in columns.iter().zip(fields) {
            let value = Some(value).filter(|v| !v.trim().is_empty());
            match column.as_str() {
                "pdq" => draft.pdq = value,
                "quality" => match value.as_deref().map(|v| v.trim().parse::<u8>()) {
                    None => {}
                    Some(Ok(q)) => draft.quality = Some(q),
                    Some(Err(_)) => bad_quality = true,
                },
                "sha256" => draft.sha256 = value,
                "md5" => draft.md5 = value,
                "note" => draft.note = value,
                _ => draft.reason = value,
            }
        }
        if bad_quality {
            let reason = LineReason::Field { field: "quality".into(), code: "invalid" };
            parsed.errors.push(LineError::new(line, reason, "quality: must be a whole number from 0 to 100"));
            continue;
        }
        validated(parsed, line, draft);
    }
}

fn parse_json_lines(text: &str, parsed: &mut Parsed) {
    for (i, text) in text.lines().enumerate() {
        let line = i + 1;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EntryDraft>(text) {
            Ok(draft) => validated(parsed, line, draft),
            Err(e) => {
                parsed.errors.push(LineError::new(line, LineReason::NotJson, format!("not a bank entry object: {e}")))
            }
        }
    }
}

fn is_pdq_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `pdq <hex>` (python-threatexchange's file exchange), a bare `<hex>`, or a legacy `.te` CSV row
/// `<hex>,<id>,…` whose other fields are kept as the entry's note.
fn parse_te(text: &str, parsed: &mut Parsed) {
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let first_field = text.split(',').next().unwrap_or("").trim();
        let draft = if text.contains(',') && is_pdq_hex(first_field) {
            match csv_fields(text) {
                Ok(fields) => {
                    let rest = fields[1..].join(",");
                    let note = Some(format!("te: {rest}")).filter(|_| !rest.trim_matches(',').is_empty());
                    EntryDraft { pdq: Some(first_field.to_owned()), note, ..Default::default() }
                }
                Err(e) => {
                    parsed.errors.push(LineError::new(line, LineReason::Quoting, e));
                    continue;
                }
            }
        } else if let Some((kind, value)) = text.split_once(char::is_whitespace) {
            if !kind.eq_ignore_ascii_case("pdq") {
                parsed.errors.push(LineError::new(
                    line,
                    LineReason::SignalType(kind.to_owned()),
                    format!("signal type `{kind}` is not supported; only pdq signals are imported"),
                ));
                continue;
            }
            EntryDraft { pdq: Some(value.trim().to_owned()), ..Default::default() }
        } else {
            EntryDraft { pdq: Some(text.to_owned()), ..Default::default() }
        };
        validated(parsed, line, draft);
    }
}

/// Parses a whole file. A leading UTF-8 byte-order mark (what Excel's "CSV UTF-8" and Windows
/// Notepad write) is skipped in every format; line numbers are unchanged by it.
pub fn parse(format: Format, text: &str) -> Parsed {
    let text = strip_bom(text);
    let mut parsed = Parsed::default();
    match format {
        Format::Csv => parse_csv(text, &mut parsed),
        Format::Json => parse_json_lines(text, &mut parsed),
        Format::Te => parse_te(text, &mut parsed),
    }
    parsed
}

/// `text` without a leading U+FEFF byte-order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The file's first line, if the format has a header.
pub fn header(format: Format) -> Option<&'static str> {
    (format == Format::Csv).then_some(CSV_HEADER)
}

/// One entry as a line (without newline); `None` when the format cannot carry it (te: no PDQ).
pub fn line(format: Format, e: &BankEntry) -> Option<String> {
    let opt = |v: &Option<String>| v.as_deref().map(csv_field).unwrap_or_default();
    match format {
        Format::Csv => Some(format!(
            "{},{},{},{},{}",
            opt(&e.pdq),
            e.quality.map(|q| q.to_string()).unwrap_or_default(),
            opt(&e.sha256),
            opt(&e.md5),
            opt(&e.note)
        )),
        Format::Json => {
            let mut object = serde_json::Map::new();
            for (key, value) in
                [("pdq", &e.pdq), ("sha256", &e.sha256), ("md5", &e.md5), ("note", &e.note), ("reason", &e.reason)]
            {
                if let Some(v) = value {
                    object.insert(key.into(), v.clone().into());
                }
            }
            if let Some(q) = e.quality {
                object.insert("quality".into(), q.into());
            }
            Some(serde_json::Value::Object(object).to_string())
        }
        Format::Te => e.pdq.as_ref().map(|p| format!("pdq {p}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_round_trips() {
        assert_eq!(csv_fields(r#"a,"b,c","say ""hi""",,"#).unwrap(), ["a", "b,c", "say \"hi\"", "", ""]);
        assert_eq!(csv_fields(&csv_field("x, \"y\"")).unwrap(), ["x, \"y\""]);
        assert!(csv_fields(r#"a,"b"#).is_err());
        assert!(csv_fields(r#"a,b"c"#).is_err());
    }

    #[test]
    fn every_bad_line_is_named() {
        let text = format!(
            "{CSV_HEADER}\n{p},90,,,ok\n{p},101,,,\nnot-hex,,,,\n\n,,,,only a note\n{p},9x,,,\n{p},1\n",
            p = "a".repeat(64)
        );
        let parsed = parse(Format::Csv, &text);
        assert_eq!(parsed.entries.len(), 1);
        let lines: Vec<usize> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 6, 7, 8], "{:?}", parsed.errors);
        let field = |f: &str, code| LineReason::Field { field: f.into(), code };
        let reasons: Vec<&LineReason> = parsed.errors.iter().map(|e| &e.reason).collect();
        assert_eq!(
            reasons,
            [
                &field("quality", "invalid"),
                &field("pdq", "invalid"),
                &field("pdq", "required"),
                &field("quality", "invalid"),
                &LineReason::FieldCount { found: 2, expected: 5 },
            ],
            "the reasons as data, for pages in other languages"
        );
        let other = parse(Format::Te, "md5 abc\n");
        assert_eq!(other.errors[0].reason, LineReason::SignalType("md5".into()));
        assert_eq!(parse(Format::Json, "{\n").errors[0].reason, LineReason::NotJson);
        assert_eq!(parse(Format::Csv, "pdq,colour\n").errors[0].reason, LineReason::UnknownColumn("colour".into()));
        assert_eq!(parse(Format::Csv, "pdq\n\"ab\n").errors[0].reason, LineReason::Quoting);
    }

    #[test]
    fn a_byte_order_mark_is_accepted_in_every_format() {
        let p = "f8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let files = [
            (Format::Csv, format!("\u{feff}{CSV_HEADER}\r\n{p},90,,,from excel\r\n")),
            (Format::Json, format!("\u{feff}{{\"pdq\":\"{p}\",\"quality\":90}}\n")),
            (Format::Te, format!("\u{feff}pdq {p}\n")),
        ];
        for (format, text) in files {
            let parsed = parse(format, &text);
            assert!(parsed.errors.is_empty(), "{format:?}: {:?}", parsed.errors);
            assert_eq!(parsed.entries.len(), 1, "{format:?}");
            assert_eq!(parsed.entries[0].0, if format == Format::Csv { 2 } else { 1 });
            assert_eq!(parsed.entries[0].1.pdq.as_deref(), Some(p));
        }
        // Only a leading mark is a BOM; one inside a field is still an error.
        let parsed = parse(Format::Te, &format!("pdq {p}\n\u{feff}pdq {p}\n"));
        assert_eq!(parsed.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn te_reads_the_signal_file_shapes() {
        let p = "f8f8f0cee0f4a84f0e370222038f67f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let text = format!(
            "# comment\npdq {p}\n{p}\n{p},123,2020-07-01T18:31:15+0000,tag1 tag2\nvideo_md5 {m}\n",
            m = "0".repeat(32)
        );
        let parsed = parse(Format::Te, &text);
        assert_eq!(parsed.entries.len(), 3);
        assert_eq!(parsed.entries[2].1.note.as_deref(), Some("te: 123,2020-07-01T18:31:15+0000,tag1 tag2"));
        assert_eq!(parsed.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [5]);
    }
}
