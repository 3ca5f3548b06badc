//! The text exports: CSV and JSON lines, written row by row from each column's [`Cells`].
//!
//! How a value is written, in both (see [`Cells::write`]):
//!
//! | type | CSV | JSON lines |
//! |------|-----|------------|
//! | null | an empty field | `null` |
//! | bool | `true` / `false` | `true` / `false` |
//! | int, long | digits (a long's every digit, beyond 2^53 too) | a number, every digit |
//! | double | shortest round-trip (`0.1`, `1e300`); `NaN`, `Infinity`, `-Infinity` | the same, the three non-finite words as strings |
//! | timestamp | ISO-8601 UTC as Java's `Instant.toString` (`2026-01-05T17:00:00.250Z`: 0, 3, 6 or 9 fraction digits) | the same, as a string |
//! | date, time | `2026-01-05`; `17:00:00`, `17:00:05.500` (seconds always; 0, 3, 6 or 9 fraction digits) | strings |
//! | string | as it is, quoted per RFC 4180 when needed; an empty string as `""` | a JSON string |
//! | binary | lowercase hex | a hex string |
//! | array | its JSON text, as a quoted field | a JSON array |
//!
//! Invariant: a line holds exactly one row (CSV fields holding line breaks are quoted), and the
//! header's names and the rows' fields are in the same order.

use super::cells::{Cells, Style, write_csv_field, write_json_str};
use crate::column::Column;
use crate::table::Field;

/// CSV ([`Style::Csv`]: a header of the names, then one CRLF-ended record per row) or JSON lines
/// ([`Style::Json`]: one `\n`-ended object per row).
pub(super) fn text(columns: &[(&Field, &Column)], rows: usize, style: Style) -> String {
    text_rows(columns, 0, rows, style, true)
}

/// As [`text`], for rows `start .. start + count` alone (clamped), reading no other row; CSV's
/// header row only with `header`.
pub(super) fn text_rows(
    columns: &[(&Field, &Column)],
    start: usize,
    count: usize,
    style: Style,
    header: bool,
) -> String {
    let cells: Vec<Cells<'_>> = columns
        .iter()
        .map(|(_, c)| Cells::read_rows(c, start, count))
        .collect();
    let rows = columns
        .first()
        .map_or(0, |(_, c)| count.min(c.len().saturating_sub(start)));
    // What goes before each column's value: in CSV a comma (but first), in JSON `{"name":` or
    // `,"name":`.
    let mut before = Vec::with_capacity(columns.len());
    for (i, (field, _)) in columns.iter().enumerate() {
        let mut text = String::new();
        match style {
            Style::Csv if i > 0 => text.push(','),
            Style::Csv => {}
            Style::Json => {
                text.push(if i == 0 { '{' } else { ',' });
                write_json_str(&field.name, &mut text);
                text.push(':');
            }
        }
        before.push(text);
    }
    let (null, end) = match style {
        Style::Csv => ("", "\r\n"),
        Style::Json => ("null", "}\n"),
    };
    let mut out = String::with_capacity(rows.saturating_mul(12 * cells.len().max(1)) + 64);
    if style == Style::Csv && header {
        for (b, (field, _)) in before.iter().zip(columns) {
            out.push_str(b);
            write_csv_field(&field.name, &mut out);
        }
        out.push_str(end);
    }
    for row in 0..rows {
        if style == Style::Json && before.is_empty() {
            out.push('{');
        }
        for (b, column) in before.iter().zip(&cells) {
            out.push_str(b);
            if !column.write(row, style, &mut out) {
                out.push_str(null);
            }
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::column::{ColumnType, Value};
    use crate::table::{Batch, Engine, Schema, Table};

    /// A table of every type, with a row of values and a row of nulls.
    pub(crate) fn table_of_every_type() -> Table {
        static F64: ColumnType = ColumnType::F64;
        let engine = Engine::new();
        let schema = Schema::of(&[
            ("B", ColumnType::Bool),
            ("I", ColumnType::I32),
            ("L", ColumnType::I64),
            ("D", ColumnType::F64),
            ("T", ColumnType::Timestamp),
            ("S", ColumnType::String),
            ("Day", ColumnType::Date),
            ("Tod", ColumnType::Time),
            ("Bin", ColumnType::Binary),
            ("A", ColumnType::Array(&F64)),
        ])
        .unwrap();
        let table = engine.append_table(schema.clone());
        let rows = vec![
            vec![
                Value::Bool(true),
                Value::I32(-5),
                Value::I64((1 << 53) + 1),
                Value::F64(0.1),
                Value::Timestamp(1_767_632_400_250_000_000),
                Value::String("a,\"b\"\nc".into()),
                Value::Date(20_458),
                Value::Time(61_205_500_000_000),
                Value::Binary(vec![0, 255]),
                Value::Array(vec![Value::F64(1.5), Value::Null]),
            ],
            vec![Value::Null; 10],
            vec![
                Value::Bool(false),
                Value::I32(0),
                Value::I64(-1),
                Value::F64(f64::NAN),
                Value::Timestamp(0),
                Value::String(String::new()),
                Value::Date(-1),
                Value::Time(0),
                Value::Binary(vec![]),
                Value::Array(vec![]),
            ],
        ];
        table
            .add(Batch::from_rows(&schema, &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        table
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_writes_nulls_as_empty_fields() {
        let csv = table_of_every_type().to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "B,I,L,D,T,S,Day,Tod,Bin,A");
        assert_eq!(
            lines[1],
            "true,-5,9007199254740993,0.1,2026-01-05T17:00:00.250Z,\"a,\"\"b\"\"\nc\",\
             2026-01-05,17:00:05.500,00ff,\"[1.5,null]\""
        );
        // The quoted line break belongs to row 1: split on CRLF only.
        assert_eq!(lines[2], ",,,,,,,,,");
        assert_eq!(
            lines[3],
            "false,0,-1,NaN,1970-01-01T00:00:00Z,\"\",1969-12-31,00:00:00,\"\",[]"
        );
        assert_eq!((lines.len(), lines[4]), (5, ""));
    }

    #[test]
    fn json_lines_are_one_object_per_row_with_nulls_and_exact_longs() {
        let text = table_of_every_type().to_json_lines();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "{\"B\":true,\"I\":-5,\"L\":9007199254740993,\"D\":0.1,\
                 \"T\":\"2026-01-05T17:00:00.250Z\",\"S\":\"a,\\\"b\\\"\\nc\",\
                 \"Day\":\"2026-01-05\",\"Tod\":\"17:00:05.500\",\"Bin\":\"00ff\",\"A\":[1.5,null]}",
                "{\"B\":null,\"I\":null,\"L\":null,\"D\":null,\"T\":null,\"S\":null,\
                 \"Day\":null,\"Tod\":null,\"Bin\":null,\"A\":null}",
                "{\"B\":false,\"I\":0,\"L\":-1,\"D\":\"NaN\",\"T\":\"1970-01-01T00:00:00Z\",\
                 \"S\":\"\",\"Day\":\"1969-12-31\",\"Tod\":\"00:00:00\",\"Bin\":\"\",\"A\":[]}",
            ]
        );
        for line in lines {
            let parsed: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            assert_eq!(parsed.as_object().map(|o| o.len()), Some(10));
        }
    }

    #[test]
    fn doubles_round_trip_and_non_finite_doubles_are_words() {
        let engine = Engine::new();
        let schema = Schema::of(&[("D", ColumnType::F64)]).unwrap();
        let table = engine.append_table(schema.clone());
        let values = [
            1e300,
            -0.0,
            5e-324,
            0.1 + 0.2,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
        ];
        let rows: Vec<Vec<Value>> = values.iter().map(|v| vec![Value::F64(*v)]).collect();
        table
            .add(Batch::from_rows(&schema, &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        let csv = table.to_csv();
        let fields: Vec<&str> = csv
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(fields[4..6], ["Infinity", "-Infinity"]);
        for (field, v) in fields.iter().zip(&values).filter(|(_, v)| v.is_finite()) {
            let back: f64 = field.parse().unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{field}");
        }
        let json = table.to_json_lines();
        assert!(json.contains("{\"D\":\"Infinity\"}\n{\"D\":\"-Infinity\"}"));
    }

    /// Writes the Arrow file of [`table_of_every_type`] where `STREAMGLASS_EXPORT_SAMPLE` says,
    /// for a look with pyarrow while developing (the checks are `tests/tests/export.rs`'s).
    #[test]
    fn sample_arrow_file() {
        let bytes = table_of_every_type().to_arrow_ipc().unwrap();
        assert!(bytes.starts_with(b"ARROW1\0\0") && bytes.ends_with(b"ARROW1"));
        if let Some(path) = std::env::var_os("STREAMGLASS_EXPORT_SAMPLE") {
            std::fs::write(path, bytes).unwrap();
        }
    }

    /// Rows written as they come (`cat --format`) are the table export's lines, for every window
    /// of rows: arrays and binary rebased onto the values they span, dictionaries kept.
    #[test]
    fn rows_written_from_any_window_are_the_exports_lines() {
        use crate::export::{Format, rows_text};
        let table = table_of_every_type();
        let node = table.node.borrow();
        let (fields, columns) = (node.data.schema.fields(), &node.data.columns);
        for (format, whole) in [
            (Format::Csv, table.to_csv()),
            (Format::JsonLines, table.to_json_lines()),
        ] {
            let header = rows_text(fields, columns, 0, 0, format, true).unwrap();
            let rows = &whole[header.len()..];
            let lines: Vec<String> = (0..3)
                .map(|r| rows_text(fields, columns, r, 1, format, false).unwrap())
                .collect();
            assert_eq!(lines.concat(), rows, "{format:?}");
            assert_eq!(
                rows_text(fields, columns, 1, 2, format, false).unwrap(),
                lines[1..].concat()
            );
            // Past the end: nothing.
            assert_eq!(rows_text(fields, columns, 3, 5, format, false).unwrap(), "");
        }
        assert_eq!(header_of(fields, columns), "B,I,L,D,T,S,Day,Tod,Bin,A\r\n");
        assert!(rows_text(fields, columns, 0, 1, Format::ArrowIpc, true).is_none());
    }

    fn header_of(fields: &[crate::table::Field], columns: &[crate::column::Column]) -> String {
        crate::export::rows_text(fields, columns, 0, 0, crate::export::Format::Csv, true).unwrap()
    }

    #[test]
    fn format_columns_are_not_exported() {
        let table = table_of_every_type()
            .format_column_where("I", "I == 0", "IVORY")
            .unwrap();
        table.engine().run_cycle().unwrap();
        assert!(table.schema().names().contains(&"I__FORMAT"));
        assert!(table.to_csv().starts_with("B,I,L,D,T,S,Day,Tod,Bin,A\r\n"));
        assert!(!table.to_json_lines().contains("FORMAT"));
    }
}
