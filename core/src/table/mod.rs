//! Tables and the update graph.
//!
//! An [`Engine`] owns an update graph: **source** tables ([`Engine::append_table`],
//! [`Engine::stream_table`], [`Engine::ring_table`]) that take [`Batch`]es, and **derived** tables
//! that operators build from them. [`Engine::run_cycle`] applies the batches queued since the last
//! cycle, then lets every derived table, in creation order (which is a topological order, since a
//! table is made after its parents), turn its parents' [`Update`]s into its own, once per cycle.
//!
//! Every table keeps its rows materialised in [`Column`]s, in a FIFO layout: row keys are
//! `first_key .. first_key + len`, removals come off the front, additions go on the back, and
//! aggregation results may also modify rows in place. A [`Table`] is a handle: the engine holds
//! only weak references, and a derived table holds its parents, so a table nobody holds any more
//! is dropped with its state.
//!
//! A table is *blink* when each cycle's rows replace the last cycle's (a stream table, and tables
//! derived from one row by row). Aggregations over a blink table accumulate every row ever seen and
//! ignore removals, as Deephaven's do; [`Table::drop_stream`] removes the blink attribute, so
//! aggregations after it see only the current cycle's rows.

mod batch;
mod schema;

use std::cell::{Ref, RefCell};
use std::rc::{Rc, Weak};

pub use batch::Batch;
pub use schema::{Field, Schema};

use crate::column::{Column, ColumnType, Value};
use crate::ops::Operator;
use crate::{Error, Result};

/// What changed in a table during one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// `removed` rows came off the front, then `added` rows went on the back.
    Fifo { removed: usize, added: usize },
    /// Row keys (ascending) removed, added and modified in place.
    Keyed {
        removed: Vec<u64>,
        added: Vec<u64>,
        modified: Vec<u64>,
    },
}

/// Rows and memory of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    pub rows: usize,
    /// Bytes the rows take (dictionaries included), plus the operator's state.
    pub bytes_used: usize,
    /// Bytes allocated for them.
    pub bytes_reserved: usize,
}

/// A table's materialised rows.
#[derive(Debug, Clone)]
pub struct TableData {
    pub schema: Schema,
    pub columns: Vec<Column>,
    /// The key of the first row; rows are `first_key .. first_key + len`.
    pub first_key: u64,
    /// The rows of a table with no columns (Deephaven's `emptyTable(n)`); a table with columns
    /// counts its first column's values.
    pub bare_rows: usize,
}

impl TableData {
    pub fn new(schema: Schema) -> Self {
        Self {
            columns: schema.fields().iter().map(|f| Column::new(f.ty)).collect(),
            schema,
            first_key: 0,
            bare_rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(self.bare_rows, Column::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the last key.
    pub fn end_key(&self) -> u64 {
        self.first_key + self.len() as u64
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        let count = count.min(self.len());
        self.columns.iter_mut().for_each(|c| c.pop_front(count));
        self.bare_rows = self.bare_rows.saturating_sub(count);
        self.first_key += count as u64;
    }

    /// Replaces every row with what `fill` writes into a fresh table, whose keys continue after
    /// the old ones; reports the old rows removed and the new ones added. When `fill` fails, the
    /// old rows stay as they were.
    pub(crate) fn rewrite(
        &mut self,
        fill: impl FnOnce(&mut TableData) -> Result<()>,
    ) -> Result<Update> {
        let old = self.first_key..self.end_key();
        let mut fresh = TableData::new(self.schema.clone());
        fresh.first_key = old.end;
        fill(&mut fresh)?;
        *self = fresh;
        Ok(Update::Keyed {
            removed: old.collect(),
            added: (self.first_key..self.end_key()).collect(),
            modified: Vec::new(),
        })
    }

    /// Removes every row (keys continue from where they were).
    pub fn clear(&mut self) {
        self.first_key = self.end_key();
        self.bare_rows = 0;
        self.columns.iter_mut().for_each(Column::clear);
    }

    fn bytes(&self) -> (usize, usize) {
        self.columns.iter().fold((0, 0), |(u, r), c| {
            (u + c.bytes_used(), r + c.bytes_reserved())
        })
    }
}

/// How a source table treats each cycle's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Keeps every row.
    Append,
    /// Keeps only the last cycle's rows (blink).
    Stream,
    /// Keeps the newest `capacity` rows.
    Ring { capacity: usize },
}

enum NodeKind {
    Source {
        kind: SourceKind,
        pending: Vec<Batch>,
    },
    Derived {
        parents: Vec<Rc<RefCell<Node>>>,
        op: Box<dyn Operator>,
    },
}

pub(crate) struct Node {
    pub(crate) data: TableData,
    pub(crate) blink: bool,
    /// Whether some cycles remove only part of the rows, from the front (a ring table, row-wise
    /// tables of one, a time-dependent `where`); aggregations then keep what they need to undo a
    /// row. (A time-dependent `where` may also remove rows from the middle, as a keyed rewrite,
    /// which operators below take as a new whole.)
    pub(crate) trims_front: bool,
    /// This cycle's change, if any.
    pub(crate) update: Option<Update>,
    pub(crate) error: Option<String>,
    kind: NodeKind,
}

impl Node {
    fn stats(&self) -> TableStats {
        let (mut used, mut reserved) = self.data.bytes();
        if let NodeKind::Derived { op, .. } = &self.kind {
            let (u, r) = op.state_bytes();
            used += u;
            reserved += r;
        }
        if let NodeKind::Source { pending, .. } = &self.kind {
            for b in pending {
                for c in b.columns() {
                    used += c.bytes_used();
                    reserved += c.bytes_reserved();
                }
            }
        }
        TableStats {
            rows: self.data.len(),
            bytes_used: used,
            bytes_reserved: reserved,
        }
    }

    /// Applies pending batches (a source) or the parents' updates (a derived table), at the
    /// engine's clock `now`.
    fn run(&mut self, now: i64) -> Result<()> {
        self.update = None;
        if self.error.is_some() {
            return Ok(());
        }
        match &mut self.kind {
            NodeKind::Source { kind, pending } => {
                let before = self.data.len();
                let mut removed = 0;
                if *kind == SourceKind::Stream {
                    removed = before;
                    self.data.clear();
                }
                let mut added = 0;
                for batch in pending.drain(..) {
                    added += batch.len();
                    // The table adopts the batch's storage: no row is copied.
                    for (column, from) in self.data.columns.iter_mut().zip(batch.into_columns()) {
                        column.append(from);
                    }
                }
                if let SourceKind::Ring { capacity } = *kind {
                    let over = self.data.len().saturating_sub(capacity);
                    self.data.pop_front(over);
                    // Rows that came and went within the cycle are neither removed nor added.
                    let gone_new = over.saturating_sub(before);
                    removed = over.min(before);
                    added -= gone_new;
                }
                if removed > 0 || added > 0 {
                    self.update = Some(Update::Fifo { removed, added });
                }
                Ok(())
            }
            NodeKind::Derived { parents, op } => {
                // A failed parent fails its children (it no longer changes, so check first).
                if let Some(e) = parents.iter().find_map(|p| p.borrow().error.clone()) {
                    self.error = Some(e);
                    return Ok(());
                }
                // A time-dependent table runs every cycle; the others when a parent changed.
                let ticks = op.advance_clock(now);
                if !ticks && !parents.iter().any(|p| p.borrow().update.is_some()) {
                    return Ok(());
                }
                let guards: Vec<Ref<'_, Node>> = parents.iter().map(|p| p.borrow()).collect();
                let inputs: Vec<&Node> = guards.iter().map(|g| &**g).collect();
                match op.process(&inputs, &mut self.data) {
                    Ok(update) => self.update = update,
                    Err(e) => self.error = Some(e.to_string()),
                }
                Ok(())
            }
        }
    }
}

/// Whether any parent trims its front.
fn any_trims_front(parents: &[Rc<RefCell<Node>>]) -> bool {
    parents.iter().any(|p| p.borrow().trims_front)
}

struct EngineState {
    nodes: Vec<Weak<RefCell<Node>>>,
    cycles: u64,
    /// What `now()` reads: nanoseconds since the epoch, set by the host (null until then).
    clock: i64,
}

/// An update graph: its tables advance together, one cycle at a time.
#[derive(Clone)]
pub struct Engine {
    state: Rc<RefCell<EngineState>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        Self {
            state: Rc::new(RefCell::new(EngineState {
                nodes: Vec::new(),
                cycles: 0,
                clock: crate::column::NULL_I64,
            })),
        }
    }

    fn add_node(&self, node: Node) -> Table {
        let node = Rc::new(RefCell::new(node));
        self.state.borrow_mut().nodes.push(Rc::downgrade(&node));
        Table {
            node,
            engine: self.clone(),
        }
    }

    /// A source table of `kind` holding `data`.
    fn source(&self, data: TableData, kind: SourceKind) -> Table {
        self.add_node(Node {
            data,
            blink: kind == SourceKind::Stream,
            trims_front: matches!(kind, SourceKind::Ring { .. }),
            update: None,
            error: None,
            kind: NodeKind::Source {
                kind,
                pending: Vec::new(),
            },
        })
    }

    /// A table that keeps every row it is given.
    pub fn append_table(&self, schema: Schema) -> Table {
        self.source(TableData::new(schema), SourceKind::Append)
    }

    /// A blink table: each cycle's rows replace the previous cycle's.
    pub fn stream_table(&self, schema: Schema) -> Table {
        self.source(TableData::new(schema), SourceKind::Stream)
    }

    /// A table of the newest `capacity` rows.
    pub fn ring_table(&self, schema: Schema, capacity: usize) -> Table {
        self.source(TableData::new(schema), SourceKind::Ring { capacity })
    }

    /// A static table of `rows` rows and no columns (Deephaven's `emptyTable(n)`), to give columns
    /// with `update`/`view` (`i` and `ii` are a row's position).
    pub fn empty_table(&self, rows: usize) -> Table {
        let mut data = TableData::new(Schema::default());
        data.bare_rows = rows;
        self.source(data, SourceKind::Append)
    }

    /// Builds a derived table: runs `op` once over its parents' current rows (as if they had
    /// all just been added), then every cycle in which a parent changes.
    pub(crate) fn derive(
        &self,
        parents: Vec<Rc<RefCell<Node>>>,
        schema: Schema,
        blink: bool,
        mut op: Box<dyn Operator>,
    ) -> Result<Table> {
        // Row-wise tables remove what their parent removes; every other kind rebuilds. A
        // time-dependent one also removes rows as they age out.
        let ticks = op.advance_clock(self.clock());
        let trims_front = (any_trims_front(&parents) && op.keeps_rows_in_parent_order()) || ticks;
        let mut data = TableData::new(schema);
        {
            let guards: Vec<Ref<'_, Node>> = parents.iter().map(|p| p.borrow()).collect();
            let inputs: Vec<&Node> = guards.iter().map(|g| &**g).collect();
            op.initialize(&inputs, &mut data)?;
        }
        Ok(self.add_node(Node {
            data,
            blink,
            trims_front,
            update: None,
            error: None,
            kind: NodeKind::Derived { parents, op },
        }))
    }

    /// Applies every queued batch and propagates the changes through the graph.
    pub fn run_cycle(&self) -> Result<()> {
        let (nodes, now): (Vec<Rc<RefCell<Node>>>, i64) = {
            let mut state = self.state.borrow_mut();
            state.nodes.retain(|w| w.strong_count() > 0);
            state.cycles += 1;
            let nodes = state.nodes.iter().filter_map(Weak::upgrade).collect();
            (nodes, state.clock)
        };
        for node in &nodes {
            node.borrow_mut().run(now)?;
        }
        Ok(())
    }

    /// Sets the clock that formulas' `now()` read from the next cycle on (and tables made
    /// meanwhile): nanoseconds since the epoch. The engine does no I/O; its host sets it before
    /// each cycle (wall time, or a replay's clock). Until set, `now()` is null. It may go back:
    /// a time-dependent `where` is then rebuilt from its parent at the new clock.
    pub fn set_clock(&self, nanos: i64) {
        self.state.borrow_mut().clock = nanos;
    }

    /// The clock `now()` reads (see [`Engine::set_clock`]).
    pub fn clock(&self) -> i64 {
        self.state.borrow().clock
    }

    /// Cycles run so far.
    pub fn cycles(&self) -> u64 {
        self.state.borrow().cycles
    }

    /// Rows and memory of every table still alive in the graph, added up: what the session
    /// holds (it falls when a table nobody needs any more is dropped). A column chunk that two
    /// tables share (a batch queued on an append and a stream table) counts once per table.
    pub fn stats(&self) -> TableStats {
        let state = self.state.borrow();
        state
            .nodes
            .iter()
            .filter_map(Weak::upgrade)
            .fold(TableStats::default(), |total, node| {
                let s = node.borrow().stats();
                TableStats {
                    rows: total.rows + s.rows,
                    bytes_used: total.bytes_used + s.bytes_used,
                    bytes_reserved: total.bytes_reserved + s.bytes_reserved,
                }
            })
    }

    /// Tables still alive in the graph.
    pub fn live_tables(&self) -> usize {
        self.state
            .borrow()
            .nodes
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

/// A handle on a table of an [`Engine`]. Cloning it shares the table.
#[derive(Clone)]
pub struct Table {
    pub(crate) node: Rc<RefCell<Node>>,
    pub(crate) engine: Engine,
}

impl Table {
    /// Queues rows for the next cycle (source tables only).
    pub fn add(&self, batch: Batch) -> Result<()> {
        if batch.columns().iter().any(|c| c.len() != batch.len()) {
            return Err(Error::BadRow(
                "a batch whose columns differ in length".into(),
            ));
        }
        let mut node = self.node.borrow_mut();
        if batch.schema() != &node.data.schema {
            return Err(Error::BadRow(format!(
                "a batch of columns [{}] for a table of [{}]",
                batch.schema().names().join(", "),
                node.data.schema.names().join(", ")
            )));
        }
        match &mut node.kind {
            NodeKind::Source { pending, .. } => {
                pending.push(batch);
                Ok(())
            }
            NodeKind::Derived { .. } => Err(Error::Invalid(
                "rows can only be added to a source table".into(),
            )),
        }
    }

    pub fn schema(&self) -> Schema {
        self.node.borrow().data.schema.clone()
    }

    /// Rows now.
    pub fn size(&self) -> usize {
        self.node.borrow().data.len()
    }

    pub fn is_blink(&self) -> bool {
        self.node.borrow().blink
    }

    /// Rows, bytes used and bytes reserved, operator state included.
    pub fn stats(&self) -> TableStats {
        self.node.borrow().stats()
    }

    /// The last cycle's change, if the table changed.
    pub fn last_update(&self) -> Option<Update> {
        self.node.borrow().update.clone()
    }

    /// The error that stopped this table, if one did.
    pub fn error(&self) -> Option<String> {
        self.node.borrow().error.clone()
    }

    /// The value of column `name` at row position `row`.
    pub fn get(&self, name: &str, row: usize) -> Result<Value> {
        let node = self.node.borrow();
        let index = node.data.schema.index_of(name)?;
        node.data.columns[index].get(row).ok_or_else(|| {
            Error::Invalid(format!(
                "row {row} is past the end ({} rows)",
                node.data.len()
            ))
        })
    }

    /// Rows `first .. first + count` (clamped), each as its values in column order.
    pub fn rows(&self, first: usize, count: usize) -> Vec<Vec<Value>> {
        let node = self.node.borrow();
        let end = first.saturating_add(count).min(node.data.len());
        (first..end)
            .map(|r| {
                node.data
                    .columns
                    .iter()
                    .map(|c| c.get(r).unwrap_or(Value::Null))
                    .collect()
            })
            .collect()
    }

    /// Every row.
    pub fn all_rows(&self) -> Vec<Vec<Value>> {
        self.rows(0, usize::MAX)
    }

    /// Rows `first .. first + count` (clamped) for display: the data columns, and each cell's
    /// format (its column's `formatColumnWhere`, else its row's `formatRowWhere`).
    pub fn viewport(&self, first: usize, count: usize) -> Viewport {
        self.viewport_capped(first, count, usize::MAX)
    }

    /// [`Table::viewport`] with each array cell cut to its first `array_elements` elements: a
    /// display shows a few, and a grouped table's arrays may hold every row ever seen.
    pub fn viewport_capped(&self, first: usize, count: usize, array_elements: usize) -> Viewport {
        let node = self.node.borrow();
        let data = &node.data;
        let names = data.schema.names();
        let row_format = names.iter().position(|n| *n == crate::ROW_FORMAT);
        let shown: Vec<usize> = (0..names.len())
            .filter(|&i| crate::formatted_column(names[i]).is_none())
            .collect();
        let cell_format: Vec<Option<usize>> = shown
            .iter()
            .map(|&i| {
                let wanted = crate::format_column(names[i]);
                names.iter().position(|n| *n == wanted)
            })
            .collect();
        let end = first.saturating_add(count).min(data.len());
        let text = |column: Option<usize>, row: usize| match column
            .and_then(|c| data.columns[c].get(row))
        {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let mut rows = Vec::new();
        let mut formats = Vec::new();
        for r in first.min(end)..end {
            rows.push(
                shown
                    .iter()
                    .map(|&c| {
                        match &data.columns[c] {
                            Column::Array(a) => a
                                .get_prefix(r, array_elements)
                                .map(|v| v.map_or(Value::Null, Value::Array)),
                            column => column.get(r),
                        }
                        .unwrap_or(Value::Null)
                    })
                    .collect(),
            );
            let row = text(row_format, r);
            formats.push(
                cell_format
                    .iter()
                    .map(|&f| text(f, r).or_else(|| row.clone()))
                    .collect(),
            );
        }
        Viewport {
            columns: shown.iter().map(|&i| names[i].to_owned()).collect(),
            types: shown.iter().map(|&i| data.schema.fields()[i].ty).collect(),
            first: first.min(end),
            total_rows: data.len(),
            rows,
            formats,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A static copy of the rows now: it never changes (Deephaven's
    /// `emptyTable(0).snapshot(t, true)`).
    pub fn snapshot(&self) -> Table {
        let node = self.node.borrow();
        let mut data = TableData::new(node.data.schema.clone());
        for (o, c) in data.columns.iter_mut().zip(&node.data.columns) {
            o.extend_from(c);
        }
        self.engine.source(data, SourceKind::Append)
    }

    /// A handle that does not keep the table alive: a feed filling a table the user and every
    /// derived table have let go of can notice and stop.
    pub fn downgrade(&self) -> WeakTable {
        WeakTable {
            node: Rc::downgrade(&self.node),
            engine: self.engine.clone(),
        }
    }

    /// Every row an append source table holds or has queued for the next cycle, copied into one
    /// batch: what a second table fed from the same records must start with. `None` for tables
    /// that forget rows (stream and ring sources) and for derived tables.
    pub fn retained_rows(&self) -> Option<Batch> {
        let node = self.node.borrow();
        let NodeKind::Source {
            kind: SourceKind::Append,
            pending,
        } = &node.kind
        else {
            return None;
        };
        let rows = node.data.len() + pending.iter().map(Batch::len).sum::<usize>();
        let mut columns: Vec<Column> = node
            .data
            .columns
            .iter()
            .map(|c| c.empty_like(rows))
            .collect();
        for (i, column) in columns.iter_mut().enumerate() {
            column.extend_from(&node.data.columns[i]);
            for batch in pending {
                column.extend_from(&batch.columns()[i]);
            }
        }
        Batch::from_columns(&node.data.schema, columns).ok()
    }

    /// Reads one column (Deephaven's `getColumn(name)`), for `.get(i)`.
    pub fn column(&self, name: &str) -> Result<ColumnReader> {
        let index = self.node.borrow().data.schema.index_of(name)?;
        Ok(ColumnReader {
            node: Rc::clone(&self.node),
            index,
        })
    }
}

/// A table handle that does not keep the table alive ([`Table::downgrade`]).
#[derive(Clone)]
pub struct WeakTable {
    node: Weak<RefCell<Node>>,
    engine: Engine,
}

impl WeakTable {
    /// The table, if anything still holds it.
    pub fn upgrade(&self) -> Option<Table> {
        self.node.upgrade().map(|node| Table {
            node,
            engine: self.engine.clone(),
        })
    }
}

/// A window of a table's rows for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewport {
    /// The data columns (format columns are folded into `formats`).
    pub columns: Vec<String>,
    /// Each data column's type, in the order of `columns` (not of the schema, which also holds
    /// the format columns).
    pub types: Vec<ColumnType>,
    /// The position of the first row.
    pub first: usize,
    /// The table's rows in all.
    pub total_rows: usize,
    pub rows: Vec<Vec<Value>>,
    /// Each cell's color, if any, in the shape of `rows`.
    pub formats: Vec<Vec<Option<String>>>,
}

/// One column of a table, read live (the table's current rows).
pub struct ColumnReader {
    node: Rc<RefCell<Node>>,
    index: usize,
}

impl ColumnReader {
    /// The value at row position `row`, or `None` past the end.
    pub fn get(&self, row: usize) -> Option<Value> {
        self.node.borrow().data.columns[self.index].get(row)
    }

    pub fn size(&self) -> usize {
        self.node.borrow().data.len()
    }
}

#[cfg(test)]
impl Table {
    /// Tests: where the chunks of column `c` end (a string column's codes'; none for other
    /// kinds).
    pub(crate) fn chunk_ends(&self, c: usize) -> Vec<usize> {
        let node = self.node.borrow();
        let lens: Vec<usize> = match node.data.columns.get(c) {
            Some(Column::String(s)) => s
                .codes()
                .map_or_else(Vec::new, |codes| codes.slices().map(<[u32]>::len).collect()),
            Some(Column::I64(v) | Column::Timestamp(v) | Column::Time(v)) => {
                v.slices().map(<[i64]>::len).collect()
            }
            _ => Vec::new(),
        };
        lens.iter().scan(0, |end, len| Some(*end + len)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(schema: &Schema, from: i64, count: i64) -> Batch {
        let rows: Vec<Vec<Value>> = (from..from + count)
            .map(|i| vec![Value::I64(i), Value::String(format!("s{}", i % 3))])
            .collect();
        Batch::from_rows(schema, &rows).expect("rows of the schema")
    }

    #[test]
    fn retained_rows_are_the_rows_held_then_the_rows_queued() {
        let engine = Engine::new();
        let schema = Schema::of(&[("N", ColumnType::I64), ("S", ColumnType::String)]).unwrap();
        let append = engine.append_table(schema.clone());
        append.add(batch(&schema, 0, 5)).unwrap();
        engine.run_cycle().unwrap();
        append.add(batch(&schema, 5, 3)).unwrap();
        let copy = append
            .retained_rows()
            .expect("an append table retains its rows");
        assert_eq!(copy.len(), 8);
        let twin = engine.append_table(schema.clone());
        twin.add(copy).unwrap();
        engine.run_cycle().unwrap();
        assert_eq!(twin.all_rows(), append.all_rows());
        assert_eq!(append.size(), 8);

        let stream = engine.stream_table(schema.clone());
        assert!(stream.retained_rows().is_none());
        assert!(engine.ring_table(schema, 4).retained_rows().is_none());
    }

    #[test]
    fn a_viewport_types_its_data_columns_not_the_schema_with_its_format_columns() {
        let engine = Engine::new();
        let schema = Schema::of(&[("N", ColumnType::I64), ("S", ColumnType::String)]).unwrap();
        let append = engine.append_table(schema.clone());
        append.add(batch(&schema, 0, 4)).unwrap();
        // A format column between data columns, as a join of a formatted table leaves one.
        let shown = append
            .format_column_where("N", "N % 2 == 0", "IVORY")
            .unwrap()
            .update_view(&["Half = N / 2"])
            .unwrap();
        engine.run_cycle().unwrap();
        assert_eq!(shown.schema().names(), ["N", "S", "N__FORMAT", "Half"]);
        let view = shown.viewport(0, 10);
        assert_eq!(view.columns, ["N", "S", "Half"]);
        assert_eq!(
            view.types,
            [ColumnType::I64, ColumnType::String, ColumnType::F64]
        );
        assert_eq!(
            view.rows[1],
            [Value::I64(1), Value::String("s1".into()), Value::F64(0.5)]
        );
        assert_eq!(view.formats[0], [Some("IVORY".into()), None, None]);
    }

    #[test]
    fn a_weak_handle_does_not_keep_a_table_alive() {
        let engine = Engine::new();
        let schema = Schema::of(&[("N", ColumnType::I64)]).unwrap();
        let table = engine.append_table(schema);
        let weak = table.downgrade();
        assert!(weak.upgrade().is_some());
        let derived = table.view(&["N"]).unwrap();
        drop(table);
        // A derived table holds its parent.
        assert!(weak.upgrade().is_some());
        drop(derived);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn engine_stats_add_up_the_live_tables_and_fall_when_one_is_dropped() {
        let engine = Engine::new();
        let schema = Schema::of(&[("N", ColumnType::I64), ("S", ColumnType::String)]).unwrap();
        let append = engine.append_table(schema.clone());
        append.add(batch(&schema, 0, 10_000)).unwrap();
        engine.run_cycle().unwrap();
        let copy = append.view(&["N"]).unwrap();
        let both = engine.stats();
        let parts = [append.stats(), copy.stats()];
        assert_eq!(both.rows, 20_000);
        assert_eq!(both.bytes_used, parts[0].bytes_used + parts[1].bytes_used);
        assert_eq!(
            both.bytes_reserved,
            parts[0].bytes_reserved + parts[1].bytes_reserved
        );
        drop(copy);
        assert_eq!(engine.stats(), append.stats());
    }
}
