//! [`Batch`]: rows handed to a source table in one go, already typed, column by column.

use crate::column::{Column, Value};
use crate::table::Schema;
use crate::{Error, Result};

/// Typed rows for a source table. Every column has the same length.
#[derive(Debug, Clone)]
pub struct Batch {
    schema: Schema,
    columns: Vec<Column>,
}

impl Batch {
    /// An empty batch of `schema`.
    pub fn new(schema: &Schema) -> Self {
        Self {
            columns: schema.fields().iter().map(|f| Column::new(f.ty)).collect(),
            schema: schema.clone(),
        }
    }

    /// An empty batch of `schema` with room for `rows` rows in one chunk per column, which a
    /// source table adopts without copying.
    pub fn with_capacity(schema: &Schema, rows: usize) -> Self {
        Self {
            columns: schema
                .fields()
                .iter()
                .map(|f| Column::with_capacity(f.ty, rows))
                .collect(),
            schema: schema.clone(),
        }
    }

    /// A batch of the given rows; a value of the wrong type is an error naming row and column.
    pub fn from_rows(schema: &Schema, rows: &[Vec<Value>]) -> Result<Self> {
        let mut batch = Self::with_capacity(schema, rows.len());
        for row in rows {
            batch.push_row(row)?;
        }
        Ok(batch)
    }

    /// Appends one row.
    pub fn push_row(&mut self, row: &[Value]) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::BadRow(format!(
                "a row of {} values for {} columns",
                row.len(),
                self.columns.len()
            )));
        }
        if let Some((i, value)) = self
            .columns
            .iter()
            .zip(row)
            .enumerate()
            .find_map(|(i, (column, value))| (!column.accepts(value)).then_some((i, value)))
        {
            let field = &self.schema.fields()[i];
            return Err(Error::BadRow(format!(
                "column {} is {}, not {value:?}",
                field.name, field.ty
            )));
        }
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push(value);
        }
        Ok(())
    }

    /// A batch made of whole columns, which must match the schema's types and have one length.
    pub fn from_columns(schema: &Schema, columns: Vec<Column>) -> Result<Self> {
        if columns.len() != schema.len() {
            return Err(Error::BadRow(format!(
                "{} columns for a schema of {}",
                columns.len(),
                schema.len()
            )));
        }
        for (c, f) in columns.iter().zip(schema.fields()) {
            if c.column_type() != f.ty {
                return Err(Error::BadRow(format!(
                    "column {} is {}, not {}",
                    f.name,
                    f.ty,
                    c.column_type()
                )));
            }
        }
        if columns.iter().any(|c| c.len() != columns[0].len()) {
            return Err(Error::BadRow("columns of different lengths".into()));
        }
        Ok(Self {
            schema: schema.clone(),
            columns,
        })
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The columns, owned (a source table adopts their storage).
    pub fn into_columns(self) -> Vec<Column> {
        self.columns
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every row, keeping storage.
    pub fn clear(&mut self) {
        self.columns.iter_mut().for_each(Column::clear);
    }
}
