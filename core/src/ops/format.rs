//! Conditional formats: `formatColumnWhere` and `formatRowWhere` add style metadata that travels
//! with the rows through every later operation.
//!
//! A format is an ordinary string column with a reserved name, [`format_column`]`(col)` for a
//! cell's background and [`ROW_FORMAT`] for a whole row, holding a color name (`IVORY`) or `#RRGGBB`
//! where the condition holds and null elsewhere. A later format of the same target wins where its
//! condition holds. Readers show format columns as styles, not as data.

use crate::formula::Variables;
use crate::table::Table;
use crate::{Error, Result};

/// The column holding whole-row formats.
pub const ROW_FORMAT: &str = "__ROW_FORMAT";
const SUFFIX: &str = "__FORMAT";

/// The name of the column holding `column`'s cell formats.
pub fn format_column(column: &str) -> String {
    format!("{column}{SUFFIX}")
}

/// Whether `name` holds formats rather than data; for a cell format, the column it styles.
pub fn formatted_column(name: &str) -> Option<&str> {
    if name == ROW_FORMAT {
        return Some("");
    }
    name.strip_suffix(SUFFIX)
}

fn check_color(color: &str) -> Result<()> {
    let named = !color.is_empty() && color.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let hex = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if named || hex {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{color:?} is not a color: use a name such as IVORY or #RRGGBB"
        )))
    }
}

impl Table {
    fn add_format(
        &self,
        target: String,
        condition: &str,
        color: &str,
        variables: &Variables,
    ) -> Result<Table> {
        check_color(color)?;
        let previous = if self.schema().index_of(&target).is_ok() {
            target.clone()
        } else {
            "null".into()
        };
        let formula = format!("{target} = ({condition}) ? `{color}` : {previous}");
        self.update_view_with(&[formula.as_str()], variables)
    }

    /// Colors the cells of `column` where `condition` holds (Deephaven's `formatColumnWhere`).
    pub fn format_column_where(&self, column: &str, condition: &str, color: &str) -> Result<Table> {
        self.schema().index_of(column)?;
        self.add_format(
            format_column(column),
            condition,
            color,
            &Variables::default(),
        )
    }

    /// Colors whole rows where `condition` holds (Deephaven's `formatRowWhere`).
    pub fn format_row_where(&self, condition: &str, color: &str) -> Result<Table> {
        self.add_format(ROW_FORMAT.into(), condition, color, &Variables::default())
    }
}
