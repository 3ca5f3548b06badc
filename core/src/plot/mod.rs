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

use crate::column::{Column, ColumnType, NULL_F64, NULL_I64, Value};
use crate::ops::key_ids::KeyIds;
use crate::ops::keys::{read_f64, read_i64, refuse_array_keys};
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
    let wanted = match spec.kind {
        PlotKind::Points => spec.values.len().max(1),
        PlotKind::Histogram => 0,
        PlotKind::Ohlc => 4,
    };
    if spec.values.len() != wanted {
        return Err(Error::Invalid(format!(
            "{what}: name {}",
            if wanted == 4 {
                "the open, high, low and close columns"
            } else {
                "a y column"
            }
        )));
    }
    // Column 0 is x, then the value columns; each as doubles, null as NaN.
    let mut columns = Vec::with_capacity(1 + wanted);
    let mut categories = Vec::new();
    for (k, name) in std::iter::once(&spec.x).chain(&spec.values).enumerate() {
        let i = schema.index_of(name)?;
        let ty = schema.fields()[i].ty;
        let column = &data.columns[i];
        if k == 0 && ty == ColumnType::String && spec.kind == PlotKind::Points {
            columns.push(categorical(column, rows, &mut categories));
        } else {
            columns.push(numbers(column, rows).ok_or_else(|| {
                Error::Invalid(format!(
                    "{what}: {} column must hold numbers or times, and {name} is a {ty} column",
                    if k == 0 { "the x" } else { "a value" }
                ))
            })?);
        }
    }
    refuse_array_keys(schema, &spec.by, what)?;
    let mut by = Vec::new();
    let mut types = Vec::new();
    for name in &spec.by {
        let i = schema.index_of(name)?;
        by.push(i);
        types.push(schema.fields()[i].ty);
    }
    // Each row's series group (one per key tuple), and each group's rows in order.
    let mut ids = KeyIds::new(&types, true);
    let mut group = Vec::new();
    ids.ids_or_single(data, &by, 0, rows, &mut group);
    let groups = if by.is_empty() { 1 } else { ids.len() };
    let series_count = groups
        * if spec.kind == PlotKind::Points {
            wanted
        } else {
            1
        };
    if series_count > MAX_SERIES {
        return Err(Error::Invalid(format!(
            "{what}: {series_count} series ({groups} keys of [{}]); a chart holds at most \
             {MAX_SERIES}: filter the table first (where)",
            spec.by.join(", "),
        )));
    }
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups];
    for (r, &g) in group.iter().enumerate() {
        if let Some(m) = members.get_mut(g as usize) {
            m.push(r as u32);
        }
    }
    let xs = &columns[0];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in xs.iter().filter(|x| !x.is_nan()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let x_range = (lo <= hi).then_some((lo, hi));
    let mut series = Vec::with_capacity(series_count);
    // Points: one series per (value column, key); the others one per key over every column.
    let passes = if spec.kind == PlotKind::Points {
        wanted
    } else {
        1
    };
    for v in 0..passes {
        for (g, rows_of) in members.iter().enumerate() {
            let used: &[Vec<f64>] = match spec.kind {
                PlotKind::Points => &columns[1 + v..2 + v],
                _ => &columns[1..],
            };
            // The rows with an x and every value.
            let kept: Vec<u32> = rows_of
                .iter()
                .copied()
                .filter(|&r| {
                    !xs[r as usize].is_nan() && used.iter().all(|c| !c[r as usize].is_nan())
                })
                .collect();
            let gx = pick(xs, &kept);
            let (x, values) = match spec.kind {
                PlotKind::Points => {
                    let gy = pick(&used[0], &kept);
                    let chosen = decimate::m4(&gx, &gy, width, lo, hi);
                    (pick(&gx, &chosen), vec![pick(&gy, &chosen)])
                }
                PlotKind::Histogram if x_range.is_none() => (Vec::new(), vec![Vec::new()]),
                PlotKind::Histogram => {
                    let step = (hi - lo) / width as f64;
                    let edges = (0..width).map(|b| lo + step * b as f64).collect();
                    (edges, vec![bins::histogram(&gx, width, lo, hi)])
                }
                PlotKind::Ohlc => {
                    let bars: Vec<Vec<f64>> = used.iter().map(|c| pick(c, &kept)).collect();
                    let (x, merged) =
                        bins::ohlc(&gx, [&bars[0], &bars[1], &bars[2], &bars[3]], width, lo, hi);
                    (x, merged.to_vec())
                }
            };
            let key = by
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    let mut out = Column::new(schema.fields()[c].ty);
                    ids.push_key(g as u32, k, &mut out);
                    out.get(0).unwrap_or(Value::Null)
                })
                .collect();
            let column = if spec.kind == PlotKind::Points {
                spec.values[v]
            } else {
                ""
            };
            series.push(PlotSeries {
                column: column.to_owned(),
                key,
                rows: kept.len(),
                x,
                values,
            });
        }
    }
    Ok(PlotData {
        x_type: schema.fields()[schema.index_of(spec.x)?].ty,
        categories,
        x_range,
        rows,
        series,
    })
}

/// `values` at `positions`.
fn pick(values: &[f64], positions: &[u32]) -> Vec<f64> {
    positions.iter().map(|&p| values[p as usize]).collect()
}

/// A column's values as doubles, nulls as NaN (times as their count of ns, days, ...); `None` for
/// a column that holds no numbers.
fn numbers(column: &Column, rows: usize) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(rows);
    match column {
        Column::F64(_) => {
            read_f64(column, 0, rows, &mut out);
            for v in &mut out {
                if *v == NULL_F64 {
                    *v = f64::NAN;
                }
            }
        }
        Column::String(_) | Column::Binary(_) | Column::Array(_) => return None,
        _ => {
            let mut ints = Vec::with_capacity(rows);
            read_i64(column, 0, rows, &mut ints);
            out.extend(
                ints.iter()
                    .map(|&v| if v == NULL_I64 { f64::NAN } else { v as f64 }),
            );
        }
    }
    Some(out)
}

/// A string column's values as the index of their category (in order of first appearance; null
/// is NaN).
fn categorical(column: &Column, rows: usize, categories: &mut Vec<String>) -> Vec<f64> {
    let mut index = crate::column::Dictionary::new();
    let out = (0..rows)
        .map(|r| match column.get(r) {
            Some(Value::String(s)) => f64::from(index.intern(&s)),
            _ => f64::NAN,
        })
        .collect();
    categories.extend((0..index.len() as u32).filter_map(|c| index.get(c).map(str::to_owned)));
    out
}

#[cfg(test)]
mod tests;
