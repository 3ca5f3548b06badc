//! The JavaScript API of the engine, with Deephaven's names in camelCase: a [`Session`] owns an
//! update graph and its tables; a [`Table`] handle derives new tables (`view`, `where`, `aggBy`,
//! `sort`, `naturalJoin`, ...), reads them (`viewport`, `getColumn(name).get(i)`, `stats`) and
//! watches them (`subscribe`).
//!
//! A session keeps every table it made, by id, until `table.close()`: JavaScript has no
//! deterministic destructor, so releasing a table (and the memory of every table only it kept
//! alive) is explicit, as the notebook's `my_table = None` is. A handle is an id plus the session,
//! so passing tables to `merge` or `naturalJoin` never consumes the JavaScript objects.
//!
//! Errors are thrown as JavaScript `Error`s carrying the engine's message.

mod clock;
mod connection;
mod convert;
mod table;
mod update_by;

use litemap::LiteMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use streamglass_core::protocol::Compression;
use streamglass_core::{Engine, Schema};
use wasm_bindgen::prelude::*;

pub use table::{ColumnHandle, Table};
pub use update_by::UpdateBy;

/// What a session shares with its table handles.
pub(crate) struct SessionState {
    engine: Engine,
    connection: RefCell<Option<connection::Connection>>,
    tables: RefCell<LiteMap<u32, streamglass_core::Table>>,
    next_id: Cell<u32>,
    subscriptions: RefCell<Vec<Subscription>>,
    next_subscription: Cell<u32>,
    /// What `now()` reads (see [`clock`]).
    clock: clock::StreamClock,
}

struct Subscription {
    id: u32,
    table: u32,
    callback: js_sys::Function,
}

impl SessionState {
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A frame of `partition` of `subscription` was delivered, with records at `times` (ms):
    /// the clock follows the data.
    pub(crate) fn observe_records(
        &self,
        subscription: u32,
        partition: i32,
        times: impl IntoIterator<Item = i64>,
    ) {
        self.clock
            .observe(subscription, partition, times, clock::wall_ms());
    }

    /// Registers a table and returns its handle.
    pub(crate) fn register(self: &Rc<Self>, table: streamglass_core::Table) -> Table {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.tables.borrow_mut().insert(id, table);
        Table::new(Rc::clone(self), id)
    }

    /// The table behind a handle id, if it is still open.
    pub(crate) fn table(&self, id: u32) -> Result<streamglass_core::Table, JsError> {
        self.tables
            .borrow()
            .get(&id)
            .cloned()
            .ok_or_else(|| JsError::new(&format!("table {id} was closed")))
    }
}

/// An engine session: its tables advance together, one update cycle at a time.
#[wasm_bindgen]
pub struct Session {
    state: Rc<SessionState>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Session {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Session {
        crate::text::install();
        #[cfg(not(feature = "tzdb"))]
        crate::time::install();
        Session {
            state: Rc::new(SessionState {
                engine: Engine::new(),
                connection: RefCell::new(None),
                tables: RefCell::new(LiteMap::new()),
                next_id: Cell::new(1),
                subscriptions: RefCell::new(Vec::new()),
                next_subscription: Cell::new(1),
                clock: clock::StreamClock::default(),
            }),
        }
    }

    /// A session connected to the bridge at `url` (`ws://host:port/ws`): `consumeToTable` then
    /// streams topics into tables. The socket opens in the background; a bridge that cannot be
    /// reached rejects the consumers' promises with the reason. `options` may set
    /// `{compression: "snappy" | "none"}`, the default of every `consumeToTable` (snappy).
    pub fn connect(url: &str, options: JsValue) -> Result<Session, JsError> {
        let compression = connection::compression(&options, Compression::Snappy)?;
        let session = Session::new();
        let connection = connection::Connection::open(url, &session.state, compression)?;
        *session.state.connection.borrow_mut() = Some(connection);
        Ok(session)
    }

    /// `consumeToTable({topic, offsets, tableType, key, value})`: a promise of a source table
    /// that the topic fills from the seek spec `offsets` (default `"end"`; `"-1000000"` is the
    /// newest million records in total), `tableType` `"append"` (default), `"stream"` or
    /// `{ring: N}`, keys `"ignore"`d (default) and values decoded as `{avro: subject}` (default:
    /// the topic's value subject, else its newest). Records cross the socket snappy-compressed
    /// unless `compression` is `"none"`. It resolves when the bridge's hello arrives.
    #[wasm_bindgen(js_name = consumeToTable)]
    pub fn consume_to_table(&self, options: JsValue) -> Result<js_sys::Promise, JsError> {
        // A connection the bridge closed as idle (no subscription for a while) is opened again.
        let reopen = self
            .state
            .connection
            .borrow()
            .as_ref()
            .filter(|c| c.closed_idle())
            .map(|c| (c.url().to_owned(), c.compression));
        if let Some((url, compression)) = reopen {
            let connection = connection::Connection::open(&url, &self.state, compression)?;
            *self.state.connection.borrow_mut() = Some(connection);
        }
        let connection = self.state.connection.borrow();
        let connection = connection
            .as_ref()
            .ok_or_else(|| JsError::new("this session has no bridge: use Session.connect(url)"))?;
        let spec = connection::ConsumeSpec::from_js(&options, connection.compression)?;
        Ok(connection.consume(spec))
    }

    /// The connection's state: `{url, open, closed, records, bytes, consumers: [{subscription,
    /// topic, table, records, bytes, skipped, caughtUp, ended, exhausted, failed, errors}]}`, or
    /// `null` without a bridge. `exhausted` is `null`, or the bridge's message once a recording
    /// replayed as live (`serve --live-from`) has run out (`ended` is then true too).
    pub fn status(&self) -> JsValue {
        self.state
            .connection
            .borrow()
            .as_ref()
            .map_or(JsValue::NULL, connection::Connection::status)
    }

    /// A source table with the given columns (`[["Name", "double"], ...]`) and kind
    /// (`"append"`, `"stream"` or `{ring: N}`; default append). Rows go in with `addRows`.
    #[wasm_bindgen(js_name = newTable)]
    pub fn new_table(&self, columns: JsValue, table_type: JsValue) -> Result<Table, JsError> {
        let bad = || JsError::new("columns are [[name, type], ...], e.g. [[\"Size\", \"double\"]]");
        if !js_sys::Array::is_array(&columns) {
            return Err(bad());
        }
        let mut fields = Vec::new();
        for entry in js_sys::Array::from(&columns).iter() {
            let pair = js_sys::Array::from(&entry);
            let (Some(name), Some(ty)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
                return Err(bad());
            };
            fields.push(streamglass_core::table::Field::new(
                name,
                convert::column_type(&ty)?,
            ));
        }
        let schema = Schema::new(fields).map_err(to_js)?;
        let engine = &self.state.engine;
        let table = match convert::table_kind(&table_type)? {
            convert::TableKind::Append => engine.append_table(schema),
            convert::TableKind::Stream => engine.stream_table(schema),
            convert::TableKind::Ring(n) => engine.ring_table(schema, n),
        };
        Ok(self.state.register(table))
    }

    /// A static table of `rows` rows and no columns, as Deephaven's: give it columns with
    /// `update`/`view` (`i` and `ii` are a row's position); `emptyTable(0).snapshot(t)` is a static
    /// copy of `t`.
    #[wasm_bindgen(js_name = emptyTable)]
    pub fn empty_table(&self, rows: u32) -> Table {
        let table = self.state.engine.empty_table(rows as usize);
        self.state.register(table)
    }

    /// Applies every row added since the last cycle, updates every live table, then calls each
    /// subscription whose table changed. Formulas' `now()` read the session's clock ([`now`]).
    ///
    /// [`now`]: Session::now
    #[wasm_bindgen(js_name = runCycle)]
    pub fn run_cycle(&self) -> Result<(), JsError> {
        let now = self.state.clock.now(clock::wall_ms());
        self.state.engine.set_clock(now);
        self.state.engine.run_cycle().map_err(to_js)?;
        let due: Vec<(js_sys::Function, JsValue)> = {
            let subscriptions = self.state.subscriptions.borrow();
            let tables = self.state.tables.borrow();
            subscriptions
                .iter()
                .filter_map(|s| {
                    let table = tables.get(&s.table)?;
                    let update = table.last_update()?;
                    Some((s.callback.clone(), table::update_to_js(table, &update)))
                })
                .collect()
        };
        for (callback, update) in due {
            callback
                .call1(&JsValue::NULL, &update)
                .map_err(|e| JsError::new(&format!("a subscription callback threw: {e:?}")))?;
        }
        Ok(())
    }

    /// The session's clock, what `now()` reads, as `BigInt` nanoseconds since the epoch: the
    /// time of the data it consumes (the newest record time delivered, advanced by wall time
    /// since, that no single record or partition far ahead of the others moves; so a recording
    /// replayed as live gives its live edge; it never goes back), or wall time while nothing
    /// has been delivered, unless fixed with `setClock`.
    pub fn now(&self) -> js_sys::BigInt {
        js_sys::BigInt::from(self.state.clock.now(clock::wall_ms()))
    }

    /// Fixes the session's clock at `nanos` (a `BigInt` or a `Number` of nanoseconds since the
    /// epoch) from the next cycle on; `null` hands it back to the data. It may be earlier than
    /// the clock was: the next cycle then rebuilds every `where` on `now()` from its parent, as
    /// a new one would be.
    #[wasm_bindgen(js_name = setClock)]
    pub fn set_clock(&self, nanos: JsValue) -> Result<(), JsError> {
        let fixed = if nanos.is_null() || nanos.is_undefined() {
            None
        } else {
            let timestamp = streamglass_core::ColumnType::Timestamp;
            match convert::value_from_js(&nanos, timestamp, "clock") {
                Ok(streamglass_core::Value::Timestamp(t)) => Some(t),
                _ => {
                    return Err(JsError::new(
                        "setClock takes nanoseconds since the epoch (a BigInt, or a safe \
                         integer Number), or null",
                    ));
                }
            }
        };
        self.state.clock.fix(fixed);
        Ok(())
    }

    /// Update cycles run so far.
    pub fn cycles(&self) -> f64 {
        self.state.engine.cycles() as f64
    }

    /// Tables the session still holds.
    #[wasm_bindgen(js_name = tableCount)]
    pub fn table_count(&self) -> u32 {
        self.state.tables.borrow().len() as u32
    }

    /// `{tables, rows, bytesUsed, bytesReserved}` of every table alive in the session's graph
    /// (closed tables that others still need included): what the tables hold, which falls when a
    /// table is dropped, unlike `memory()`.
    pub fn stats(&self) -> JsValue {
        let stats = table::stats_to_js(&self.state.engine.stats());
        let _ = js_sys::Reflect::set(
            &stats,
            &"tables".into(),
            &JsValue::from_f64(self.state.engine.live_tables() as f64),
        );
        stats
    }

    /// Bytes of WebAssembly linear memory (it grows and is never returned).
    pub fn memory(&self) -> f64 {
        #[cfg(target_arch = "wasm32")]
        {
            (core::arch::wasm32::memory_size(0) * 65_536) as f64
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            0.0
        }
    }

    /// Stops calling a subscription's callback.
    pub fn unsubscribe(&self, subscription: u32) {
        self.state
            .subscriptions
            .borrow_mut()
            .retain(|s| s.id != subscription);
    }
}

impl SessionState {
    pub(crate) fn subscribe(&self, table: u32, callback: js_sys::Function) -> u32 {
        let id = self.next_subscription.get();
        self.next_subscription.set(id + 1);
        self.subscriptions.borrow_mut().push(Subscription {
            id,
            table,
            callback,
        });
        id
    }

    /// Forgets a table and its subscriptions.
    pub(crate) fn close(&self, table: u32) {
        self.tables.borrow_mut().remove(&table);
        self.subscriptions.borrow_mut().retain(|s| s.table != table);
    }
}

/// Aggregations for `aggBy`, as Deephaven's `Aggregation` factory names them.
#[wasm_bindgen]
pub struct Agg;

fn agg(kind: &str, spec: &str, weight: Option<&str>) -> JsValue {
    let object = js_sys::Object::new();
    let set = |k: &str, v: &str| js_sys::Reflect::set(&object, &k.into(), &v.into()).is_ok();
    set("kind", kind);
    set("spec", spec);
    if let Some(w) = weight {
        set("weight", w);
    }
    object.into()
}

#[wasm_bindgen]
impl Agg {
    /// `Agg.count("Trade_Count")`: rows per group.
    pub fn count(name: &str) -> JsValue {
        agg("count", name, None)
    }
    /// `Agg.sum("Total_Size = Size")`.
    pub fn sum(spec: &str) -> JsValue {
        agg("sum", spec, None)
    }
    pub fn min(spec: &str) -> JsValue {
        agg("min", spec, None)
    }
    pub fn max(spec: &str) -> JsValue {
        agg("max", spec, None)
    }
    pub fn avg(spec: &str) -> JsValue {
        agg("avg", spec, None)
    }
    pub fn first(spec: &str) -> JsValue {
        agg("first", spec, None)
    }
    pub fn last(spec: &str) -> JsValue {
        agg("last", spec, None)
    }
    #[wasm_bindgen(js_name = countDistinct)]
    pub fn count_distinct(spec: &str) -> JsValue {
        agg("countDistinct", spec, None)
    }
    pub fn var(spec: &str) -> JsValue {
        agg("var", spec, None)
    }
    pub fn std(spec: &str) -> JsValue {
        agg("std", spec, None)
    }
    /// `Agg.wavg("Size", "VWAP = Price")`: mean weighted by a column.
    pub fn wavg(weight: &str, spec: &str) -> JsValue {
        agg("wavg", spec, Some(weight))
    }
    /// `Agg.group("Prices = Price")`: each group's values as an array, in row order.
    pub fn group(spec: &str) -> JsValue {
        agg("group", spec, None)
    }
    /// `Agg.distinct("Venues = Exchange", includeNulls)`: each group's distinct values as an
    /// array, ascending (null first, when `includeNulls`).
    pub fn distinct(spec: &str, include_nulls: Option<bool>) -> JsValue {
        let object = agg("distinct", spec, None);
        let _ = js_sys::Reflect::set(
            &object,
            &"includeNulls".into(),
            &include_nulls.unwrap_or(false).into(),
        );
        object
    }
    /// `Agg.absSum("Out = In")`: the sum of absolute values.
    #[wasm_bindgen(js_name = absSum)]
    pub fn abs_sum(spec: &str) -> JsValue {
        agg("absSum", spec, None)
    }
    /// `Agg.median("Out = In", averageEvenlyDivided = true)`: the middle value; an even count of
    /// numbers averages the two middle ones unless `averageEvenlyDivided` is false.
    pub fn median(spec: &str, average_evenly_divided: Option<bool>) -> JsValue {
        with(
            agg("median", spec, None),
            &[(
                "average",
                JsValue::from_bool(average_evenly_divided.unwrap_or(true)),
            )],
        )
    }
    /// `Agg.pct(0.95, "P95 = Price", averageEvenlyDivided = false)`: a percentile, in [0, 1].
    pub fn pct(percentile: f64, spec: &str, average_evenly_divided: Option<bool>) -> JsValue {
        with(
            agg("pct", spec, None),
            &[
                ("percentile", JsValue::from_f64(percentile)),
                (
                    "average",
                    JsValue::from_bool(average_evenly_divided.unwrap_or(false)),
                ),
            ],
        )
    }
    /// `Agg.unique("Out = In", includeNulls = false, nonUniqueSentinel = null)`: the group's one
    /// distinct value, null when all are null, the sentinel when there are several.
    pub fn unique(
        spec: &str,
        include_nulls: Option<bool>,
        non_unique_sentinel: JsValue,
    ) -> JsValue {
        with(
            agg("unique", spec, None),
            &[
                (
                    "includeNulls",
                    JsValue::from_bool(include_nulls.unwrap_or(false)),
                ),
                ("sentinel", non_unique_sentinel),
            ],
        )
    }
    /// `Agg.sortedFirst("Timestamp", "Out = In")`: the value of the group's first row by a column.
    #[wasm_bindgen(js_name = sortedFirst)]
    pub fn sorted_first(sort_column: &str, spec: &str) -> JsValue {
        with(
            agg("sortedFirst", spec, None),
            &[("sortBy", sort_column.into())],
        )
    }
    /// `Agg.sortedLast("Timestamp", "Out = In")`: the value of the group's last row by a column.
    #[wasm_bindgen(js_name = sortedLast)]
    pub fn sorted_last(sort_column: &str, spec: &str) -> JsValue {
        with(
            agg("sortedLast", spec, None),
            &[("sortBy", sort_column.into())],
        )
    }
    /// `Agg.countWhere("Big", "Size > 1")` or `Agg.countWhere("N", ["A > 0", "B < 1"])`: the rows
    /// where every filter holds.
    #[wasm_bindgen(js_name = countWhere)]
    pub fn count_where(name: &str, filters: JsValue) -> JsValue {
        with(agg("countWhere", name, None), &[("filters", filters)])
    }
}

/// `object` with `fields` set.
fn with(object: JsValue, fields: &[(&str, JsValue)]) -> JsValue {
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&object, &(*k).into(), v);
    }
    object
}

/// Sort directions for `sort`, as Deephaven's `SortColumn` names them: `SortColumn.asc("A")`,
/// `SortColumn.desc("B")`.
#[wasm_bindgen]
pub struct SortColumn;

fn sort_column(column: &str, direction: &str) -> JsValue {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"column".into(), &column.into());
    let _ = js_sys::Reflect::set(&object, &"direction".into(), &direction.into());
    object.into()
}

#[wasm_bindgen]
impl SortColumn {
    /// Ascending by `column` (nulls first).
    pub fn asc(column: &str) -> JsValue {
        sort_column(column, "ASC")
    }
    /// Descending by `column` (nulls last).
    pub fn desc(column: &str) -> JsValue {
        sort_column(column, "DESC")
    }
}

pub(crate) fn to_js(e: streamglass_core::Error) -> JsError {
    JsError::new(&e.to_string())
}
