//! Plotting a table: what a chart draws of it, computed where the rows are, so that only that
//! crosses to the page. A [`PlotSpec`] names the x column, the value columns (one series each,
//! or OHLC's four), the `by` columns (one series per key tuple) and the pixel width; [`Table::plot`]
//! scans the table's current rows once and returns each series decimated to that width
//! ([`decimate::m4`]), binned ([`bins::histogram`]) or as bars ([`bins::ohlc`]).
//!
//! Invariant: a series never holds more than `4 × width` points (`width` bars for OHLC, `bins`
//! counts for a histogram), and holds every row's point when it has no more rows than that; rows
//! with a null x or value are left out. At most [`MAX_SERIES`] series; more is an error.

pub mod bins;
pub mod decimate;

use crate::column::{Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, Value};
use crate::ops::key_ids::KeyIds;
use crate::ops::keys::refuse_array_keys;
use crate::table::{Table, TableData};
use crate::{Error, Result};

/// The most series one plot may have (a `by` with more keys is refused: a chart of hundreds of
/// lines is unreadable, and each costs a scan's worth of memory).
pub const MAX_SERIES: usize = 64;

/// What a plot draws of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// Points of (x, y) per value column: lines, scatter, bars and areas alike.
    Points,
    /// Counts of x's values in `width` equal bins.
    Histogram,
    /// Bars of (x, open, high, low, close): the value columns are those four.
    Ohlc,
}

/// One plot of one table.
#[derive(Debug, Clone)]
pub struct PlotSpec<'a> {
    pub kind: PlotKind,
    pub x: &'a str,
    /// `Points`: the y columns; `Ohlc`: open, high, low, close; `Histogram`: none.
    pub values: Vec<&'a str>,
    pub by: Vec<&'a str>,
    /// Pixel columns (`Points`, `Ohlc`) or bins (`Histogram`), at least 1.
    pub width: usize,
}

/// One series: its points (or bars, or bins) sorted by x.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSeries {
    /// The value column (`Points`), or empty.
    pub column: String,
    /// The `by` values of the series' rows.
    pub key: Vec<Value>,
    /// Rows the series has in the table (before decimation).
    pub rows: usize,
    pub x: Vec<f64>,
    /// `Points`: [y]; `Ohlc`: [open, high, low, close]; `Histogram`: [count].
    pub values: Vec<Vec<f64>>,
}

/// What a chart draws of a table now.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotData {
    /// The type of x (`Histogram`: of the binned column); a string x is plotted by category.
    pub x_type: ColumnType,
    /// A string x's categories, in order of first appearance: x is the index into them.
    pub categories: Vec<String>,
    /// The x range of every series (`Histogram`: of the values binned).
    pub x_range: Option<(f64, f64)>,
    /// Rows of the table.
    pub rows: usize,
    pub series: Vec<PlotSeries>,
}

impl Table {
    /// What `spec` draws of this table's current rows.
    pub fn plot(&self, spec: &PlotSpec) -> Result<PlotData> {
        plot_data(&self.node.borrow().data, spec)
    }
}

fn plot_data(data: &TableData, spec: &PlotSpec) -> Result<PlotData> {
    let schema = &data.schema;
    let rows = data.len();
    let width = spec.width.max(1);
    let what = match spec.kind {
        PlotKind::Points => "Plot",
        PlotKind::Histogram => "Plot.histogram",
        PlotKind::Ohlc => "Plot.ohlc",
    };
    if spec.kind == PlotKind::Points && spec.values.is_empty() {
        return Err(Error::Invalid(format!("{what}: name a y column")));
    }
    let x_index = schema.index_of(spec.x)?;
    let x_type = schema.fields()[x_index].ty;
    let mut categories = Vec::new();
    let xs = if x_type == ColumnType::String && spec.kind == PlotKind::Points {
        categorical(&data.columns[x_index], rows, &mut categories)
    } else {
        numbers(&data.columns[x_index], rows)
            .ok_or_else(|| not_numeric(what, "x", spec.x, x_type))?
    };
    let values: Vec<Vec<f64>> = spec
        .values
        .iter()
        .map(|name| {
            let i = schema.index_of(name)?;
            let ty = schema.fields()[i].ty;
            numbers(&data.columns[i], rows).ok_or_else(|| not_numeric(what, "a value", name, ty))
        })
        .collect::<Result<_>>()?;
    refuse_array_keys(schema, &spec.by, what)?;
    let by: Vec<usize> = spec
        .by
        .iter()
        .map(|n| schema.index_of(n))
        .collect::<Result<_>>()?;
    // Each row's series group (one per key tuple).
    let mut ids = KeyIds::new(
        &by.iter()
            .map(|&c| schema.fields()[c].ty)
            .collect::<Vec<_>>(),
        true,
    );
    let mut group = Vec::new();
    ids.ids_or_single(data, &by, 0, rows, &mut group);
    let groups = if by.is_empty() { 1 } else { ids.len() };
    // Each group's rows, in order.
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups];
    for (r, &g) in group.iter().enumerate() {
        if let Some(m) = members.get_mut(g as usize) {
            m.push(r as u32);
        }
    }
    let per_group = match spec.kind {
        PlotKind::Points => spec.values.len(),
        _ => 1,
    };
    if groups * per_group > MAX_SERIES {
        return Err(Error::Invalid(format!(
            "{what}: {} series ({groups} keys of [{}]{}); a chart holds at most {MAX_SERIES}: filter the table first (where)",
            groups * per_group,
            spec.by.join(", "),
            if per_group > 1 {
                format!(" × {per_group} columns")
            } else {
                String::new()
            },
        )));
    }
    let keys: Vec<Vec<Value>> = (0..groups as u32)
        .map(|g| {
            by.iter()
                .enumerate()
                .map(|(k, &c)| {
                    let mut out = Column::new(schema.fields()[c].ty);
                    ids.push_key(g, k, &mut out);
                    out.get(0).unwrap_or(Value::Null)
                })
                .collect()
        })
        .collect();
    let finite = |v: f64| !v.is_nan();
    let x_range = range(xs.iter().copied().filter(|&v| finite(v)));
    let (lo, hi) = x_range.unwrap_or((0.0, 0.0));
    let mut series = Vec::new();
    match spec.kind {
        PlotKind::Points => {
            for (v, name) in spec.values.iter().enumerate() {
                for (g, key) in keys.iter().enumerate() {
                    let (gx, gy): (Vec<f64>, Vec<f64>) = members[g]
                        .iter()
                        .map(|&r| r as usize)
                        .filter(|&r| finite(xs[r]) && finite(values[v][r]))
                        .map(|r| (xs[r], values[v][r]))
                        .unzip();
                    let picked = decimate::m4(&gx, &gy, width, lo, hi);
                    series.push(PlotSeries {
                        column: (*name).to_owned(),
                        key: key.clone(),
                        rows: gx.len(),
                        x: picked.iter().map(|&i| gx[i as usize]).collect(),
                        values: vec![picked.iter().map(|&i| gy[i as usize]).collect()],
                    });
                }
            }
        }
        PlotKind::Histogram => {
            for (g, key) in keys.iter().enumerate() {
                let gx: Vec<f64> = members[g]
                    .iter()
                    .map(|&r| xs[r as usize])
                    .filter(|&x| finite(x))
                    .collect();
                let counts = bins::histogram(&gx, width, lo, hi);
                let step = (hi - lo) / width as f64;
                series.push(PlotSeries {
                    column: String::new(),
                    key: key.clone(),
                    rows: gx.len(),
                    x: (0..width).map(|b| lo + step * b as f64).collect(),
                    values: vec![counts],
                });
            }
        }
        PlotKind::Ohlc => {
            if values.len() != 4 {
                return Err(Error::Invalid(format!(
                    "{what}: name the open, high, low and close columns"
                )));
            }
            for (g, key) in keys.iter().enumerate() {
                let kept: Vec<usize> = members[g]
                    .iter()
                    .map(|&r| r as usize)
                    .filter(|&r| finite(xs[r]) && values.iter().all(|v| finite(v[r])))
                    .collect();
                let gx: Vec<f64> = kept.iter().map(|&r| xs[r]).collect();
                let cols: Vec<Vec<f64>> = values
                    .iter()
                    .map(|v| kept.iter().map(|&r| v[r]).collect())
                    .collect();
                let (x, [o, h, l, c]) =
                    bins::ohlc(&gx, [&cols[0], &cols[1], &cols[2], &cols[3]], width, lo, hi);
                series.push(PlotSeries {
                    column: String::new(),
                    key: key.clone(),
                    rows: kept.len(),
                    x,
                    values: vec![o, h, l, c],
                });
            }
        }
    }
    Ok(PlotData {
        x_type,
        categories,
        x_range,
        rows,
        series,
    })
}

fn not_numeric(what: &str, role: &str, name: &str, ty: ColumnType) -> Error {
    Error::Invalid(format!(
        "{what}: {role} column must hold numbers or times, and {name} is a {ty} column"
    ))
}

/// The least and greatest of `values`, if any.
fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A column's values as doubles, nulls as NaN (times as their count of ns, days, ...); `None` for
/// a column that holds no numbers.
fn numbers(column: &Column, rows: usize) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(rows);
    match column {
        Column::Bool(c) => c.slices().for_each(|s| {
            out.extend(s.iter().map(|&v| {
                if v == NULL_BOOL {
                    f64::NAN
                } else {
                    f64::from(v)
                }
            }))
        }),
        Column::I32(c) | Column::Date(c) => c.slices().for_each(|s| {
            out.extend(s.iter().map(|&v| {
                if v == NULL_I32 {
                    f64::NAN
                } else {
                    f64::from(v)
                }
            }))
        }),
        Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => c.slices().for_each(|s| {
            out.extend(
                s.iter()
                    .map(|&v| if v == NULL_I64 { f64::NAN } else { v as f64 }),
            )
        }),
        Column::F64(c) => c
            .slices()
            .for_each(|s| out.extend(s.iter().map(|&v| if v == NULL_F64 { f64::NAN } else { v }))),
        Column::String(_) | Column::Binary(_) | Column::Array(_) => return None,
    }
    Some(out)
}

/// A string column's values as the index of their category (in order of first appearance; null
/// is NaN).
fn categorical(column: &Column, rows: usize, categories: &mut Vec<String>) -> Vec<f64> {
    let mut index: rustc_hash::FxHashMap<String, usize> = Default::default();
    (0..rows)
        .map(|r| match column.get(r) {
            Some(Value::String(s)) => {
                let next = index.len();
                let i = *index.entry(s.clone()).or_insert_with(|| {
                    categories.push(s);
                    next
                });
                i as f64
            }
            _ => f64::NAN,
        })
        .collect()
}

#[cfg(test)]
mod tests;
