//! [`Table`]: a handle on one table of a session. Every derivation returns a new handle; reading
//! a closed table throws.

use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use streamglass_core::float_text::Float;
use streamglass_core::{Batch, Update, Value};
use wasm_bindgen::prelude::*;

use super::convert::{self, agg_from_js, strings, value_to_js, variables};
use super::{SessionState, to_js};

/// A table of a [`Session`](super::Session).
#[wasm_bindgen]
pub struct Table {
    state: Rc<SessionState>,
    id: u32,
}

/// Sets `key` on a plain object (setting a property on a fresh object cannot fail).
fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &key.into(), &value.into());
}

fn keys_to_js(keys: &[u64]) -> Array {
    keys.iter().map(|&k| JsValue::from_f64(k as f64)).collect()
}

/// A cycle's change as `{added, removed, modified, size}` (row counts) for subscribers.
pub(crate) fn update_to_js(table: &streamglass_core::Table, update: &Update) -> JsValue {
    let object = Object::new();
    let (added, removed, modified) = match update {
        Update::Fifo { removed, added } => (*added, *removed, 0),
        Update::Keyed {
            removed,
            added,
            modified,
        } => (added.len(), removed.len(), modified.len()),
    };
    set(&object, "added", added as f64);
    set(&object, "removed", removed as f64);
    set(&object, "modified", modified as f64);
    set(&object, "size", table.size() as f64);
    if let Update::Keyed { modified, .. } = update {
        set(&object, "modifiedKeys", keys_to_js(modified));
    }
    object.into()
}

impl Table {
    pub(crate) fn new(state: Rc<SessionState>, id: u32) -> Self {
        Self { state, id }
    }

    fn inner(&self) -> Result<streamglass_core::Table, JsError> {
        self.state.table(self.id)
    }

    fn derive(
        &self,
        make: impl FnOnce(&streamglass_core::Table) -> streamglass_core::Result<streamglass_core::Table>,
    ) -> Result<Table, JsError> {
        let table = make(&self.inner()?).map_err(to_js)?;
        Ok(self.state.register(table))
    }

    /// A join of this table with `right` (a table of this session), match columns `on` and
    /// columns to add `columns` (a string, or an array of strings).
    fn two_sided(
        &self,
        right: JsValue,
        on: JsValue,
        columns: JsValue,
        join: JoinOf,
    ) -> Result<Table, JsError> {
        let right = self.other(&right)?;
        let (on, columns) = (strings(&on, "keys")?, strings(&columns, "columns")?);
        self.derive(|t| join(t, &right, &refs(&on), &refs(&columns)))
    }

    /// The table behind a handle passed from JavaScript (read by its `id`, so the object is not
    /// consumed).
    fn other(&self, handle: &JsValue) -> Result<streamglass_core::Table, JsError> {
        let id = Reflect::get(handle, &"id".into())
            .ok()
            .and_then(|v| v.as_f64())
            .ok_or_else(|| JsError::new("expected a table of this session"))?;
        self.state.table(id as u32)
    }
}

/// A row count from JavaScript: a whole number from 1 (0 and worse are the engine's error).
fn row_count(n: f64, what: &str) -> Result<usize, JsError> {
    if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 {
        Ok(n as usize)
    } else {
        Err(JsError::new(&format!(
            "{what}: the number of rows is a whole number greater than zero, not {}",
            Float(n)
        )))
    }
}

fn refs(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// A join of the core: (left, right, match columns, columns to add).
type JoinOf = fn(
    &streamglass_core::Table,
    &streamglass_core::Table,
    &[&str],
    &[&str],
) -> streamglass_core::Result<streamglass_core::Table>;

#[wasm_bindgen]
impl Table {
    /// The handle's id within its session.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Rows now.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> Result<f64, JsError> {
        Ok(self.inner()?.size() as f64)
    }

    /// Column names, in order, format columns (`formatColumnWhere`'s `X__FORMAT`) included; a
    /// viewport lists the data columns only.
    #[wasm_bindgen(getter)]
    pub fn columns(&self) -> Result<Array, JsError> {
        Ok(self
            .inner()?
            .schema()
            .fields()
            .iter()
            .map(|f| JsValue::from_str(&f.name))
            .collect())
    }

    /// Column types, in the order of `columns` (`double`, `long`, `string`, ...).
    #[wasm_bindgen(getter, js_name = columnTypes)]
    pub fn column_types(&self) -> Result<Array, JsError> {
        Ok(self
            .inner()?
            .schema()
            .fields()
            .iter()
            .map(|f| JsValue::from_str(&f.ty.to_string()))
            .collect())
    }

    /// Whether each cycle's rows replace the last cycle's (a stream table, or one derived row by
    /// row from it).
    #[wasm_bindgen(getter, js_name = isBlink)]
    pub fn is_blink(&self) -> Result<bool, JsError> {
        Ok(self.inner()?.is_blink())
    }

    /// The error that stopped this table, or `null`.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> Result<Option<String>, JsError> {
        Ok(self.inner()?.error())
    }

    /// Queues rows (an array of arrays, in column order) for the next cycle; source tables only.
    #[wasm_bindgen(js_name = addRows)]
    pub fn add_rows(&self, rows: JsValue) -> Result<(), JsError> {
        let table = self.inner()?;
        let schema = table.schema();
        if !Array::is_array(&rows) {
            return Err(JsError::new("rows are an array of arrays"));
        }
        let rows = Array::from(&rows);
        let mut batch = Batch::with_capacity(&schema, rows.length() as usize);
        for (r, row) in rows.iter().enumerate() {
            if !Array::is_array(&row) {
                return Err(JsError::new(&format!("row {r} is not an array")));
            }
            let row = Array::from(&row);
            let values: Vec<Value> = schema
                .fields()
                .iter()
                .enumerate()
                .map(|(c, f)| convert::value_from_js(&row.get(c as u32), f.ty, &f.name))
                .collect::<Result<_, _>>()?;
            batch.push_row(&values).map_err(to_js)?;
        }
        table.add(batch).map_err(to_js)
    }

    /// `view(["A", "B = A * 2"], {variables})`: only these columns and formulas.
    pub fn view(&self, formulas: JsValue, vars: JsValue) -> Result<Table, JsError> {
        let (f, v) = (strings(&formulas, "formulas")?, variables(&vars)?);
        self.derive(|t| t.view_with(&refs(&f), &v))
    }

    /// `updateView(["C = A + B"], {variables})`: every column plus formulas, computed as read.
    #[wasm_bindgen(js_name = updateView)]
    pub fn update_view(&self, formulas: JsValue, vars: JsValue) -> Result<Table, JsError> {
        let (f, v) = (strings(&formulas, "formulas")?, variables(&vars)?);
        self.derive(|t| t.update_view_with(&refs(&f), &v))
    }

    /// `update([...])`: every column plus formulas, stored.
    pub fn update(&self, formulas: JsValue) -> Result<Table, JsError> {
        let f = strings(&formulas, "formulas")?;
        self.derive(|t| t.update(&refs(&f)))
    }

    /// `select([...])`: only these columns and formulas, stored.
    pub fn select(&self, formulas: JsValue) -> Result<Table, JsError> {
        let f = strings(&formulas, "formulas")?;
        self.derive(|t| t.select(&refs(&f)))
    }

    /// `where("Size > size_offset", {size_offset: 10})`: the rows where every filter holds.
    #[wasm_bindgen(js_name = "where")]
    pub fn where_(&self, filters: JsValue, vars: JsValue) -> Result<Table, JsError> {
        let (f, v) = (strings(&filters, "filters")?, variables(&vars)?);
        self.derive(|t| t.where_with(&refs(&f), &v))
    }

    /// The last row of each group of `keys` (all rows as one group when none).
    #[wasm_bindgen(js_name = lastBy)]
    pub fn last_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.last_by(&refs(&k)))
    }

    /// The first row of each group of `keys`.
    #[wasm_bindgen(js_name = firstBy)]
    pub fn first_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.first_by(&refs(&k)))
    }

    /// `countBy("RowCount", keys)`: rows per group.
    #[wasm_bindgen(js_name = countBy)]
    pub fn count_by(&self, name: &str, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.count_by(name, &refs(&k)))
    }

    /// `sumBy(keys)`: the sum of every other column per group.
    #[wasm_bindgen(js_name = sumBy)]
    pub fn sum_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.sum_by(&refs(&k)))
    }

    /// `avgBy(keys)`: the mean of every other column per group.
    #[wasm_bindgen(js_name = avgBy)]
    pub fn avg_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.avg_by(&refs(&k)))
    }

    /// `minBy(keys)`: the minimum of every other column per group.
    #[wasm_bindgen(js_name = minBy)]
    pub fn min_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.min_by(&refs(&k)))
    }

    /// `maxBy(keys)`: the maximum of every other column per group.
    #[wasm_bindgen(js_name = maxBy)]
    pub fn max_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.max_by(&refs(&k)))
    }

    /// `medianBy(keys)`: the median of every other column per group.
    #[wasm_bindgen(js_name = medianBy)]
    pub fn median_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.median_by(&refs(&k)))
    }

    /// `stdBy(keys)`: the sample standard deviation of every other column per group.
    #[wasm_bindgen(js_name = stdBy)]
    pub fn std_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.std_by(&refs(&k)))
    }

    /// `varBy(keys)`: the sample variance of every other column per group.
    #[wasm_bindgen(js_name = varBy)]
    pub fn var_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.var_by(&refs(&k)))
    }

    /// `absSumBy(keys)`: the sum of absolute values of every other column per group.
    #[wasm_bindgen(js_name = absSumBy)]
    pub fn abs_sum_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.abs_sum_by(&refs(&k)))
    }

    /// `aggBy([Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")], ["Exchange", "Instrument"])`.
    #[wasm_bindgen(js_name = aggBy)]
    pub fn agg_by(&self, aggs: JsValue, keys: JsValue) -> Result<Table, JsError> {
        if !Array::is_array(&aggs) {
            return Err(JsError::new(
                "aggregations are an array: [Agg.count(...), ...]",
            ));
        }
        let aggs: Vec<streamglass_core::Agg> = Array::from(&aggs)
            .iter()
            .map(|a| agg_from_js(&a))
            .collect::<Result<_, _>>()?;
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.agg_by(&aggs, &refs(&k)))
    }

    /// `updateBy([UpdateBy.rollingAvg({revTicks: 100}, "Avg100 = Price")], ["Instrument"])`: the
    /// rows with each operation's columns, computed over windows of each group's rows.
    #[wasm_bindgen(js_name = updateBy)]
    pub fn update_by(&self, ops: JsValue, keys: JsValue) -> Result<Table, JsError> {
        let ops = super::update_by::update_bys_from_js(&ops)?;
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.update_by(&ops, &refs(&k)))
    }

    /// `groupBy(["Exchange"])`: one row per group, every other column an array of the group's
    /// values in row order.
    #[wasm_bindgen(js_name = groupBy)]
    pub fn group_by(&self, keys: JsValue) -> Result<Table, JsError> {
        let k = strings(&keys, "keys")?;
        self.derive(|t| t.group_by(&refs(&k)))
    }

    /// `ungroup(["Prices"], nullFill)`: one row per array element (every array column when none
    /// is named); with `nullFill`, arrays of one row may differ in length (the shorter are padded
    /// with nulls).
    pub fn ungroup(&self, columns: JsValue, null_fill: Option<bool>) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.ungroup(&refs(&c), null_fill.unwrap_or(false)))
    }

    /// Sorted by the columns: names (ascending; `-Name` or `Name desc` for descending) or
    /// `SortColumn.asc("A")` / `SortColumn.desc("B")`, mixed freely (`[SortColumn.asc("A"),
    /// SortColumn.desc("B")]`).
    pub fn sort(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = convert::sort_columns(&columns)?;
        self.derive(|t| t.sort(&refs(&c)))
    }

    /// Sorted descending by the columns.
    #[wasm_bindgen(js_name = sortDescending)]
    pub fn sort_descending(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.sort_descending(&refs(&c)))
    }

    /// `selectDistinct(["Exchange", "Instrument"])`: the distinct tuples, in order of first
    /// appearance; over a blink table, every tuple ever seen.
    #[wasm_bindgen(js_name = selectDistinct)]
    pub fn select_distinct(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.select_distinct(&refs(&c)))
    }

    /// `headBy(3, ["Instrument"])`: the first `n` rows of each group, key columns first.
    #[wasm_bindgen(js_name = headBy)]
    pub fn head_by(&self, n: f64, keys: JsValue) -> Result<Table, JsError> {
        let (n, k) = (row_count(n, "headBy")?, strings(&keys, "keys")?);
        self.derive(|t| t.head_by(n, &refs(&k)))
    }

    /// `tailBy(3, ["Instrument"])`: the last `n` rows of each group, key columns first.
    #[wasm_bindgen(js_name = tailBy)]
    pub fn tail_by(&self, n: f64, keys: JsValue) -> Result<Table, JsError> {
        let (n, k) = (row_count(n, "tailBy")?, strings(&keys, "keys")?);
        self.derive(|t| t.tail_by(n, &refs(&k)))
    }

    /// `whereIn(right, ["Key", "L = R"])`: the rows whose keys are among `right`'s, live on
    /// both sides.
    #[wasm_bindgen(js_name = whereIn)]
    pub fn where_in(&self, right: JsValue, on: JsValue) -> Result<Table, JsError> {
        let (right, on) = (self.other(&right)?, strings(&on, "columns to match")?);
        self.derive(|t| t.where_in(&right, &refs(&on)))
    }

    /// `whereNotIn(right, ["Key", "L = R"])`: the rows whose keys are not among `right`'s.
    #[wasm_bindgen(js_name = whereNotIn)]
    pub fn where_not_in(&self, right: JsValue, on: JsValue) -> Result<Table, JsError> {
        let (right, on) = (self.other(&right)?, strings(&on, "columns to match")?);
        self.derive(|t| t.where_not_in(&right, &refs(&on)))
    }

    /// `renameColumns(["New = Old"])`.
    #[wasm_bindgen(js_name = renameColumns)]
    pub fn rename_columns(&self, pairs: JsValue) -> Result<Table, JsError> {
        let p = strings(&pairs, "renames")?;
        self.derive(|t| t.rename_columns(&refs(&p)))
    }

    /// `dropColumns(["A", "B"])`.
    #[wasm_bindgen(js_name = dropColumns)]
    pub fn drop_columns(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.drop_columns(&refs(&c)))
    }

    /// `moveColumns(1, ["A", "B"])`: the columns moved to position `index` (0 is the first).
    #[wasm_bindgen(js_name = moveColumns)]
    pub fn move_columns(&self, index: f64, columns: JsValue) -> Result<Table, JsError> {
        if !(index >= 0.0 && index.fract() == 0.0 && index <= u32::MAX as f64) {
            return Err(JsError::new(&format!(
                "moveColumns: the index is a whole number from 0, not {}",
                Float(index)
            )));
        }
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.move_columns(index as usize, &refs(&c)))
    }

    /// `moveColumnsUp(["A"])`: the columns moved to the front.
    #[wasm_bindgen(js_name = moveColumnsUp)]
    pub fn move_columns_up(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.move_columns_up(&refs(&c)))
    }

    /// `moveColumnsDown(["A"])`: the columns moved to the back.
    #[wasm_bindgen(js_name = moveColumnsDown)]
    pub fn move_columns_down(&self, columns: JsValue) -> Result<Table, JsError> {
        let c = strings(&columns, "columns")?;
        self.derive(|t| t.move_columns_down(&refs(&c)))
    }

    /// `naturalJoin(right, ["Key", "L = R"], ["Col", "New = RightCol"])`.
    #[wasm_bindgen(js_name = naturalJoin)]
    pub fn natural_join(
        &self,
        right: JsValue,
        on: JsValue,
        columns: JsValue,
    ) -> Result<Table, JsError> {
        let right = self.other(&right)?;
        let (on, columns) = (strings(&on, "keys")?, strings(&columns, "columns")?);
        self.derive(|t| t.natural_join(&right, &refs(&on), &refs(&columns)))
    }

    /// `aj(right, "Instrument, Ts >= RightTs", ["Price", "New = RightCol"])`: the as-of join
    /// (the last match column is the stamp: `Ts`, `Ts >= R`, or `Ts > R` strictly before).
    pub fn aj(&self, right: JsValue, on: JsValue, columns: JsValue) -> Result<Table, JsError> {
        self.two_sided(right, on, columns, streamglass_core::Table::aj)
    }

    /// `raj(right, "Instrument, Ts <= RightTs", columns)`: the reverse as-of join (`Ts < R`
    /// strictly after).
    pub fn raj(&self, right: JsValue, on: JsValue, columns: JsValue) -> Result<Table, JsError> {
        self.two_sided(right, on, columns, streamglass_core::Table::raj)
    }

    /// `exactJoin(right, ["Key"], columns)`: exactly one right row per row, else an error.
    #[wasm_bindgen(js_name = exactJoin)]
    pub fn exact_join(
        &self,
        right: JsValue,
        on: JsValue,
        columns: JsValue,
    ) -> Result<Table, JsError> {
        self.two_sided(right, on, columns, streamglass_core::Table::exact_join)
    }

    /// `join(right, ["Key"]?, columns?)`: each row once per matching right row (no keys: the
    /// cross join), at most `JOIN_ROW_LIMIT` rows.
    pub fn join(&self, right: JsValue, on: JsValue, columns: JsValue) -> Result<Table, JsError> {
        self.two_sided(right, on, columns, streamglass_core::Table::join)
    }

    /// `leftOuterJoin(right, ["Key"]?, columns?)`: as `join`, and a row with no match once, with
    /// nulls on the right.
    #[wasm_bindgen(js_name = leftOuterJoin)]
    pub fn left_outer_join(
        &self,
        right: JsValue,
        on: JsValue,
        columns: JsValue,
    ) -> Result<Table, JsError> {
        self.two_sided(right, on, columns, streamglass_core::Table::left_outer_join)
    }

    /// This table's rows, then each of `others`' (an array of tables).
    pub fn merge(&self, others: JsValue) -> Result<Table, JsError> {
        let list: Vec<JsValue> = if Array::is_array(&others) {
            Array::from(&others).iter().collect()
        } else {
            vec![others]
        };
        let tables: Vec<streamglass_core::Table> = list
            .iter()
            .map(|o| self.other(o))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&streamglass_core::Table> = tables.iter().collect();
        self.derive(|t| t.merge(&refs))
    }

    /// A static copy of this table's rows now. Called on `emptyTable(0)` with a table, it copies
    /// that table (Deephaven's `emptyTable(0).snapshot(t)`).
    pub fn snapshot(&self, of: JsValue) -> Result<Table, JsError> {
        let source = if of.is_undefined() || of.is_null() {
            self.inner()?
        } else {
            self.other(&of)?
        };
        Ok(self.state.register(source.snapshot()))
    }

    /// The same rows without the blink attribute: aggregations see only the current cycle.
    #[wasm_bindgen(js_name = dropStream)]
    pub fn drop_stream(&self) -> Result<Table, JsError> {
        self.derive(|t| t.drop_stream())
    }

    /// The first `count` rows.
    pub fn head(&self, count: u32) -> Result<Table, JsError> {
        self.derive(|t| t.head(count as usize))
    }

    /// The last `count` rows.
    pub fn tail(&self, count: u32) -> Result<Table, JsError> {
        self.derive(|t| t.tail(count as usize))
    }

    /// `formatColumnWhere("Instrument", "Instrument.startsWith(`BTC`)", "IVORY")`.
    #[wasm_bindgen(js_name = formatColumnWhere)]
    pub fn format_column_where(
        &self,
        column: &str,
        condition: &str,
        color: &str,
    ) -> Result<Table, JsError> {
        self.derive(|t| t.format_column_where(column, condition, color))
    }

    /// `formatRowWhere(condition, color)`.
    #[wasm_bindgen(js_name = formatRowWhere)]
    pub fn format_row_where(&self, condition: &str, color: &str) -> Result<Table, JsError> {
        self.derive(|t| t.format_row_where(condition, color))
    }

    /// The rows now as a file of `format`: `"csv"` (RFC 4180, a header row), `"jsonl"` (one
    /// object per row) or `"arrow"` (an Arrow IPC file, the columns with their own types); see
    /// `streamglass_core::export`. The worker's `toCsv`, `toJsonLines`, `toArrowIpc` and
    /// `download` are built on it (one export in the bundle, not four).
    #[wasm_bindgen(js_name = exportFile)]
    pub fn export_file(&self, format: &str) -> Result<Vec<u8>, JsError> {
        let format = streamglass_core::export::Format::parse(format).ok_or_else(|| {
            JsError::new(&format!(
                "no export format {format:?}: use \"csv\", \"jsonl\" or \"arrow\""
            ))
        })?;
        self.inner()?.export(format).map_err(to_js)
    }

    /// What a chart draws of the rows now (`streamglass_core::plot`): `kind` is `"points"`,
    /// `"histogram"` or `"ohlc"`; `values` the y columns (OHLC: open, high, low, close); `by`
    /// makes one series per key; `width` is the pixel width (a histogram's bins). Returns
    /// `{xType, categories, xMin, xMax, rows, series: [{column, key, rows, x, values}]}`, with
    /// `x` and each of `values` a `Float64Array` of at most `4 × width` points.
    pub fn plot(
        &self,
        kind: &str,
        x: &str,
        values: JsValue,
        by: JsValue,
        width: u32,
    ) -> Result<JsValue, JsError> {
        use streamglass_core::plot::{PlotKind, PlotSpec};
        let kind = match kind {
            "points" => PlotKind::Points,
            "histogram" => PlotKind::Histogram,
            "ohlc" => PlotKind::Ohlc,
            other => return Err(JsError::new(&format!("no plot kind {other:?}"))),
        };
        let (values, by) = (strings(&values, "columns")?, strings(&by, "by columns")?);
        let spec = PlotSpec {
            kind,
            x,
            values: refs(&values),
            by: refs(&by),
            width: width.max(1) as usize,
        };
        let plot = self.inner()?.plot(&spec).map_err(to_js)?;
        let object = Object::new();
        set(&object, "xType", plot.x_type.to_string());
        let categories: Array = plot
            .categories
            .iter()
            .map(|c| JsValue::from_str(c))
            .collect();
        set(&object, "categories", categories);
        let (lo, hi) = plot
            .x_range
            .map_or((JsValue::NULL, JsValue::NULL), |(lo, hi)| {
                (lo.into(), hi.into())
            });
        set(&object, "xMin", lo);
        set(&object, "xMax", hi);
        set(&object, "rows", plot.rows as f64);
        let series: Array = plot
            .series
            .iter()
            .map(|s| {
                let one = Object::new();
                set(&one, "column", s.column.as_str());
                set(
                    &one,
                    "key",
                    s.key.iter().map(value_to_js).collect::<Array>(),
                );
                set(&one, "rows", s.rows as f64);
                set(&one, "x", js_sys::Float64Array::from(s.x.as_slice()));
                let values: Array = s
                    .values
                    .iter()
                    .map(|v| JsValue::from(js_sys::Float64Array::from(v.as_slice())))
                    .collect();
                set(&one, "values", values);
                JsValue::from(one)
            })
            .collect();
        set(&object, "series", series);
        Ok(object.into())
    }

    /// Rows `first .. first + count` for display: `{columns, types, first, totalRows, rows,
    /// formats}`, where `columns` are the data columns (format columns are folded into
    /// `formats`), `types[c]` is column `c`'s type, and `formats[r][c]` is the cell's color or
    /// `null`.
    ///
    /// `arrayElements`, when given, cuts each array cell to its first that many elements (the
    /// page shows six, and asks for seven to know whether to add `…`).
    pub fn viewport(
        &self,
        first: u32,
        count: u32,
        array_elements: Option<u32>,
    ) -> Result<JsValue, JsError> {
        let cap = array_elements.map_or(usize::MAX, |n| n as usize);
        let v = self
            .inner()?
            .viewport_capped(first as usize, count as usize, cap);
        let object = Object::new();
        set(
            &object,
            "columns",
            v.columns
                .iter()
                .map(|c| JsValue::from_str(c))
                .collect::<Array>(),
        );
        set(
            &object,
            "types",
            v.types
                .iter()
                .map(|t| JsValue::from_str(&t.to_string()))
                .collect::<Array>(),
        );
        set(&object, "first", v.first as f64);
        set(&object, "totalRows", v.total_rows as f64);
        let rows: Array = v
            .rows
            .iter()
            .map(|r| r.iter().map(value_to_js).collect::<Array>())
            .collect();
        set(&object, "rows", rows);
        let formats: Array = v
            .formats
            .iter()
            .map(|r| {
                r.iter()
                    .map(|f| f.as_deref().map_or(JsValue::NULL, JsValue::from_str))
                    .collect::<Array>()
            })
            .collect();
        set(&object, "formats", formats);
        Ok(object.into())
    }

    /// `getColumn(name)`, for `.get(i)` (Deephaven's `t.getColumn("KafkaOffset").get(0)`).
    #[wasm_bindgen(js_name = getColumn)]
    pub fn get_column(&self, name: &str) -> Result<ColumnHandle, JsError> {
        let reader = self.inner()?.column(name).map_err(to_js)?;
        Ok(ColumnHandle { reader })
    }

    /// `{rows, bytesUsed, bytesReserved}`, the operator's state included.
    pub fn stats(&self) -> Result<JsValue, JsError> {
        Ok(stats_to_js(&self.inner()?.stats()))
    }

    /// Whether `close()` released this handle.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        self.inner().is_err()
    }

    /// Calls `callback({added, removed, modified, size})` after every cycle that changes this
    /// table; returns an id for `session.unsubscribe`.
    pub fn subscribe(&self, callback: js_sys::Function) -> Result<u32, JsError> {
        self.inner()?;
        Ok(self.state.subscribe(self.id, callback))
    }

    /// Releases the table: the session forgets it, and its memory (with that of every table
    /// only it kept alive) is freed. Tables derived from it keep what they need.
    pub fn close(&self) {
        self.state.close(self.id);
    }
}

/// One column of a table, read live.
#[wasm_bindgen]
pub struct ColumnHandle {
    reader: streamglass_core::table::ColumnReader,
}

#[wasm_bindgen]
impl ColumnHandle {
    /// The value at row `i`; throws past the end.
    pub fn get(&self, i: u32) -> Result<JsValue, JsError> {
        self.reader
            .get(i as usize)
            .map(|v| value_to_js(&v))
            .ok_or_else(|| {
                JsError::new(&format!(
                    "row {i} is past the end ({} rows)",
                    self.reader.size()
                ))
            })
    }

    /// Rows in the column now.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        self.reader.size() as f64
    }
}

/// `{rows, bytesUsed, bytesReserved}`.
pub(crate) fn stats_to_js(s: &streamglass_core::TableStats) -> JsValue {
    let object = Object::new();
    set(&object, "rows", s.rows as f64);
    set(&object, "bytesUsed", s.bytes_used as f64);
    set(&object, "bytesReserved", s.bytes_reserved as f64);
    object.into()
}
