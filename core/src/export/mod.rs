//! Export: a table's rows as they are at this cycle, as a file another tool reads — CSV
//! ([`Table::to_csv`]), JSON lines ([`Table::to_json_lines`]) and the Arrow IPC file format
//! ([`Table::to_arrow_ipc`]).
//!
//! Every writer reads each column's storage once, in order (no per-row search: a 1M-row table
//! costs linear time), and exports the data columns a grid shows (format columns are left out).
//! Invariant: a cell holding its type's null sentinel is exported as a null (an empty CSV field,
//! JSON `null`, an unset Arrow validity bit), never as the sentinel's number.

mod arrow_ipc;
mod cells;
mod flatbuffer;
mod text;

use crate::Result;
use crate::column::Column;
use crate::table::{Field, Table};

/// A file format a table exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
    ArrowIpc,
}

impl Format {
    /// The format named `name`: `csv`, `jsonl` or `arrow` (its [`Format::extension`]).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Csv, Self::JsonLines, Self::ArrowIpc]
            .into_iter()
            .find(|f| f.extension() == name)
    }

    /// A file name's extension for it.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
            Self::ArrowIpc => "arrow",
        }
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv",
            Self::JsonLines => "application/jsonl",
            Self::ArrowIpc => "application/vnd.apache.arrow.file",
        }
    }
}

impl Table {
    /// The rows now as CSV (RFC 4180): a header row of the column names, then one record per
    /// row, lines ended by CRLF. How each type is written: `core/src/export/text.rs`.
    pub fn to_csv(&self) -> String {
        let node = self.node.borrow();
        text::text(
            &data_columns(&node.data),
            node.data.len(),
            cells::Style::Csv,
        )
    }

    /// The rows now as JSON lines: one object per row, keyed by column name, each line ended by
    /// `\n`. How each type is written: `core/src/export/text.rs`.
    pub fn to_json_lines(&self) -> String {
        let node = self.node.borrow();
        text::text(
            &data_columns(&node.data),
            node.data.len(),
            cells::Style::Json,
        )
    }

    /// The rows now as an Arrow IPC file (`ARROW1`), one record batch, the columns with their
    /// own types (see `core/src/export/arrow_ipc.rs`). Fails only past Arrow's 32-bit offsets
    /// (2 GiB of one column's string or binary bytes, or 2^31 array elements).
    pub fn to_arrow_ipc(&self) -> Result<Vec<u8>> {
        let node = self.node.borrow();
        arrow_ipc::file(&data_columns(&node.data), node.data.len())
    }

    /// The rows now in `format`, as bytes.
    pub fn export(&self, format: Format) -> Result<Vec<u8>> {
        Ok(match format {
            Format::Csv => self.to_csv().into_bytes(),
            Format::JsonLines => self.to_json_lines().into_bytes(),
            Format::ArrowIpc => self.to_arrow_ipc()?,
        })
    }
}

/// Rows `start .. start + count` (clamped) of `columns`, named by `fields`, as CSV or JSON lines
/// written exactly as the table exports write them (`core/src/export/text.rs`), reading no other
/// row: for a caller that prints rows as they come (`replay-bridge cat --format`). CSV's header
/// row comes first only with `header`. `None` for Arrow IPC, which is a file, not lines.
pub fn rows_text(
    fields: &[Field],
    columns: &[Column],
    start: usize,
    count: usize,
    format: Format,
    header: bool,
) -> Option<String> {
    let style = match format {
        Format::Csv => cells::Style::Csv,
        Format::JsonLines => cells::Style::Json,
        Format::ArrowIpc => return None,
    };
    let named: Vec<(&Field, &Column)> = fields.iter().zip(columns).collect();
    Some(text::text_rows(&named, start, count, style, header))
}

/// The columns a grid shows (every one but the format columns), with their fields.
fn data_columns(data: &crate::table::TableData) -> Vec<(&Field, &Column)> {
    data.schema
        .fields()
        .iter()
        .zip(&data.columns)
        .filter(|(f, _)| crate::formatted_column(&f.name).is_none())
        .collect()
}
