//! [`Schema`]: a table's named, typed columns.

use crate::column::ColumnType;
use crate::{Error, Result};

/// One column's name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: ColumnType,
}

impl Field {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self {
            name: name.into(),
            ty,
        }
    }
}

/// A table's columns, in order. Names are unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    fields: Vec<Field>,
}

impl Schema {
    /// A schema; fails on a duplicate name.
    pub fn new(fields: Vec<Field>) -> Result<Self> {
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].iter().any(|g| g.name == f.name) {
                return Err(Error::DuplicateColumn(f.name.clone()));
            }
        }
        Ok(Self { fields })
    }

    /// A schema from `(name, type)` pairs.
    pub fn of(fields: &[(&str, ColumnType)]) -> Result<Self> {
        Self::new(fields.iter().map(|(n, t)| Field::new(*n, *t)).collect())
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The index of column `name`, or an error listing the columns there are.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| Error::UnknownColumn {
                name: name.to_owned(),
                available: self.names().join(", "),
            })
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<&Field> {
        self.index_of(name).map(|i| &self.fields[i])
    }

    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}
