//! The table API (`Session`, `Table`, `Agg`) as JavaScript calls it: the seed notebook's "Stream
//! vs. Append" cells, built through the exported classes and read back as JavaScript values.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use streamglass_wasm::{Agg, Session, SortColumn, Table, UpdateBy};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use super::{array, get, number, string};

fn list(items: &[&str]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn columns() -> JsValue {
    [
        ("KafkaOffset", "long"),
        ("Exchange", "string"),
        ("Instrument", "string"),
        ("Size", "double"),
    ]
    .iter()
    .map(|(n, t)| Array::of2(&JsValue::from_str(n), &JsValue::from_str(t)))
    .collect::<Array>()
    .into()
}

/// `rows` trades starting at `offset`, cycling over two exchanges and three instruments.
fn trades(offset: usize, rows: usize) -> JsValue {
    (offset..offset + rows)
        .map(|i| {
            let row = Array::new();
            row.push(&JsValue::from_f64(i as f64));
            row.push(&JsValue::from_str(["binance", "kraken"][i % 2]));
            row.push(&JsValue::from_str(["BTC/USD", "ETH/USD", "ETH/BTC"][i % 3]));
            row.push(&JsValue::from_f64((i % 7) as f64 * 0.5));
            JsValue::from(row)
        })
        .collect::<Array>()
        .into()
}

fn message(e: wasm_bindgen::JsError) -> String {
    let value = JsValue::from(e);
    string(&value, "message")
}

fn aggregate(t: &Table) -> Table {
    let aggs: Array = [Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")]
        .into_iter()
        .collect();
    t.agg_by(aggs.into(), list(&["Exchange", "Instrument"]))
        .unwrap()
        .sort(list(&["Exchange", "Instrument"]))
        .unwrap()
        .format_column_where("Instrument", "Instrument.startsWith(`BTC`)", "IVORY")
        .unwrap()
}

#[wasm_bindgen_test]
fn the_seed_notebook_through_the_js_api() {
    let session = Session::new();
    let append = session.new_table(columns(), "append".into()).unwrap();
    let stream = session.new_table(columns(), "stream".into()).unwrap();
    let agg_append = aggregate(&append);
    let agg_stream = aggregate(&stream);
    let row_count_append = append
        .count_by("RowCount", JsValue::UNDEFINED)
        .unwrap()
        .update_view(list(&["Table_Type = `append`"]), JsValue::UNDEFINED)
        .unwrap();
    let row_count_stream = stream
        .drop_stream()
        .unwrap()
        .count_by("RowCount", JsValue::UNDEFINED)
        .unwrap()
        .update_view(list(&["Table_Type = `stream`"]), JsValue::UNDEFINED)
        .unwrap();
    let row_count_merge = row_count_append
        .merge(Array::of1(&JsValue::from(row_count_stream)).into())
        .unwrap();
    let diff = agg_append
        .natural_join(
            JsValue::from(agg_stream),
            list(&["Exchange", "Instrument"]),
            list(&[
                "Trade_Count_Stream = Trade_Count",
                "Total_Size_Stream = Total_Size",
            ]),
        )
        .unwrap()
        .update_view(
            list(&[
                "Diff_Count = Trade_Count - Trade_Count_Stream",
                "Diff_Size = Total_Size - Total_Size_Stream",
            ]),
            JsValue::UNDEFINED,
        )
        .unwrap();

    let updates = Rc::new(Cell::new(0u32));
    let seen = Rc::clone(&updates);
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |update: JsValue| {
        assert!(number(&update, "size") > 0.0);
        seen.set(seen.get() + 1);
    });
    let function: &Function = callback.as_ref().unchecked_ref();
    append.subscribe(function.clone()).unwrap();

    let mut ingested = 0;
    for (cycle, rows) in [600usize, 450, 1_000, 3].into_iter().enumerate() {
        append.add_rows(trades(ingested, rows)).unwrap();
        stream.add_rows(trades(ingested, rows)).unwrap();
        ingested += rows;
        session.run_cycle().unwrap();
        assert_eq!(
            updates.get(),
            cycle as u32 + 1,
            "one callback per changed cycle"
        );

        // Every difference is zero.
        let view = diff.viewport(0, 100, None).unwrap();
        let names: Vec<String> = array(&view, "columns")
            .iter()
            .filter_map(|c| c.as_string())
            .collect();
        // Each data column's type, in the viewport's order: the join carries agg_append's
        // format column, which the viewport folds into `formats`.
        let types: Vec<String> = array(&view, "types")
            .iter()
            .filter_map(|t| t.as_string())
            .collect();
        assert_eq!(names.len(), 8);
        assert_eq!(
            types,
            [
                "string", "string", "long", "double", "long", "double", "long", "double"
            ]
        );
        let count_at = names.iter().position(|n| n == "Diff_Count").unwrap();
        let size_at = names.iter().position(|n| n == "Diff_Size").unwrap();
        let rows_now = array(&view, "rows");
        assert_eq!(rows_now.len(), 6, "two exchanges × three instruments");
        for row in &rows_now {
            let row = Array::from(row);
            assert_eq!(row.get(count_at as u32).as_f64(), Some(0.0));
            assert_eq!(row.get(size_at as u32).as_f64(), Some(0.0));
        }
        // The counts: every row for append, this cycle's for stream.
        let merged = row_count_merge.viewport(0, 10, None).unwrap();
        let counts: Vec<f64> = array(&merged, "rows")
            .iter()
            .map(|r| Array::from(r).get(0).as_f64().unwrap())
            .collect();
        assert_eq!(counts, [ingested as f64, rows as f64]);
    }

    // BTC rows carry the IVORY format; the others none.
    let view = agg_append.viewport(0, 100, None).unwrap();
    let instrument_at = array(&view, "columns")
        .iter()
        .position(|c| c.as_string().as_deref() == Some("Instrument"))
        .unwrap() as u32;
    for (row, formats) in array(&view, "rows").iter().zip(array(&view, "formats")) {
        let instrument = Array::from(row).get(instrument_at).as_string().unwrap();
        let format = Array::from(&formats).get(instrument_at);
        assert_eq!(
            format.as_string().as_deref(),
            instrument.starts_with("BTC").then_some("IVORY"),
            "{instrument}"
        );
    }

    // getColumn(...).get(i), as the seed reads the latest offset.
    let latest = stream
        .view(list(&["KafkaOffset"]), JsValue::UNDEFINED)
        .unwrap()
        .last_by(JsValue::UNDEFINED)
        .unwrap();
    let snapshot = session
        .empty_table(0)
        .snapshot(JsValue::from(latest))
        .unwrap();
    assert_eq!(
        snapshot
            .get_column("KafkaOffset")
            .unwrap()
            .get(0)
            .unwrap()
            .as_f64(),
        Some((ingested - 1) as f64)
    );

    // Memory: the append table holds every row, the stream table one cycle.
    let (a, s) = (append.stats().unwrap(), stream.stats().unwrap());
    assert_eq!(number(&a, "rows"), ingested as f64);
    assert_eq!(number(&s, "rows"), 3.0);
    assert!(number(&a, "bytesUsed") > 20.0 * number(&s, "bytesUsed"));
    assert!(session.memory() >= 0.0);
}

#[wasm_bindgen_test]
fn variables_are_bound_explicitly_and_errors_carry_the_engines_message() {
    let session = Session::new();
    let t = session.new_table(columns(), JsValue::UNDEFINED).unwrap();
    let vars = Object::new();
    Reflect::set(&vars, &"size_offset".into(), &JsValue::from_f64(2.0)).unwrap();
    let big = t.where_("Size > size_offset".into(), vars.into()).unwrap();
    t.add_rows(trades(0, 70)).unwrap();
    session.run_cycle().unwrap();
    let want = (0..70).filter(|i| (i % 7) as f64 * 0.5 > 2.0).count();
    assert_eq!(big.size().unwrap(), want as f64);

    let e = t.view(list(&["Nope"]), JsValue::UNDEFINED).err().unwrap();
    assert!(message(e).contains("Nope"), "names the missing column");
    let e = t.where_("Size >".into(), JsValue::UNDEFINED).err().unwrap();
    assert!(message(e).contains("formula error at position"));
    let e = t
        .add_rows(Array::of1(&Array::of1(&"x".into())).into())
        .err()
        .unwrap();
    assert!(message(e).contains("KafkaOffset"), "names the column");
    let e = session
        .new_table(columns(), "sideways".into())
        .err()
        .unwrap();
    assert!(message(e).contains("tableType"));
}

#[wasm_bindgen_test]
fn closing_a_table_releases_it() {
    let session = Session::new();
    let t = session.new_table(columns(), JsValue::UNDEFINED).unwrap();
    let counts = t.count_by("N", list(&["Exchange"])).unwrap();
    assert_eq!(session.table_count(), 2);
    counts.close();
    assert_eq!(session.table_count(), 1);
    let e = counts.size().err().unwrap();
    assert!(message(e).contains("was closed"));
    assert!(counts.is_closed() && !t.is_closed());
    assert_eq!(get(&t.stats().unwrap(), "rows").as_f64(), Some(0.0));
}

/// `session.stats()` adds up every live table, and falls when a table nobody needs is closed;
/// a closed table its children still need keeps its bytes.
#[wasm_bindgen_test]
fn dropping_a_table_lowers_the_sessions_bytes() {
    let session = Session::new();
    let t = session.new_table(columns(), JsValue::UNDEFINED).unwrap();
    t.add_rows(trades(0, 20_000)).unwrap();
    session.run_cycle().unwrap();
    let copy = t
        .view(list(&["KafkaOffset", "Size"]), JsValue::UNDEFINED)
        .unwrap();
    let sum = copy
        .where_(list(&["Size >= 0"]), JsValue::UNDEFINED)
        .unwrap();
    let bytes = |s: &JsValue| get(s, "bytesUsed").as_f64().unwrap();
    let before = session.stats();
    assert_eq!(get(&before, "tables").as_f64(), Some(3.0));
    assert_eq!(get(&before, "rows").as_f64(), Some(60_000.0));

    // `copy` is still needed by `sum`: nothing is freed.
    copy.close();
    assert_eq!(bytes(&session.stats()), bytes(&before));
    sum.close();
    let after = session.stats();
    assert_eq!(get(&after, "tables").as_f64(), Some(1.0));
    assert_eq!(bytes(&after), bytes(&t.stats().unwrap()));
    assert!(bytes(&before) - bytes(&after) >= 2.0 * 20_000.0 * 16.0);
}

/// 500 cycles of stream ingestion through the JS API: once warm, the stream table's reserved
/// bytes and the WebAssembly linear memory stay flat (nothing leaks per cycle).
#[wasm_bindgen_test]
fn stream_ingestion_leaves_memory_flat() {
    let session = Session::new();
    let stream = session.new_table(columns(), "stream".into()).unwrap();
    let agg = aggregate(&stream);
    let counted = stream
        .drop_stream()
        .unwrap()
        .count_by("RowCount", JsValue::UNDEFINED)
        .unwrap();
    let mut reserved = Vec::new();
    let mut memory = Vec::new();
    for cycle in 0..500 {
        stream.add_rows(trades(cycle * 500, 500)).unwrap();
        session.run_cycle().unwrap();
        reserved.push(number(&stream.stats().unwrap(), "bytesReserved"));
        memory.push(session.memory());
    }
    let warm = reserved[20];
    assert!(
        reserved[20..].iter().all(|&b| b == warm),
        "the stream table's reserved bytes moved: {:?}",
        &reserved[..40]
    );
    assert_eq!(
        memory[20], memory[499],
        "the linear memory grew after warming up"
    );
    assert_eq!(number(&agg.stats().unwrap(), "rows"), 6.0);
    assert_eq!(counted.size().unwrap(), 1.0);
}

/// `emptyTable(n)` has n rows and takes columns from formulas, `i` being each row's position.
#[wasm_bindgen_test]
fn an_empty_table_of_n_rows_takes_columns() {
    let session = Session::new();
    let t = session
        .empty_table(3)
        .update(list(&["X = i", "Label = `n` + X"]))
        .unwrap();
    assert_eq!(t.size().unwrap(), 3.0);
    let x = t.get_column("X").unwrap();
    let label = t.get_column("Label").unwrap();
    for i in 0..3u32 {
        assert_eq!(x.get(i).unwrap().as_f64(), Some(f64::from(i)));
        assert_eq!(label.get(i).unwrap().as_string(), Some(format!("n{i}")));
    }
}

/// The package goes without std's float parser and Unicode case tables: the browser's do the
/// work (see `wasm/src/text.rs`), with std's results.
#[wasm_bindgen_test]
fn float_literals_and_case_mapping_come_from_the_javascript_engine() {
    let session = Session::new();
    let t = session
        .empty_table(1)
        .update(list(&[
            "A = 0.1 + 0.2",
            "B = 1.7976931348623157e308",
            "C = 2.5e-3",
            "U = `straße İx`.toUpperCase()",
            "L = `ΟΔΟΣ Ab`.toLowerCase()",
        ]))
        .unwrap();
    let get = |name: &str| t.get_column(name).unwrap().get(0).unwrap();
    assert_eq!(get("A").as_f64(), Some(0.1 + 0.2));
    assert_eq!(get("B").as_f64(), Some(f64::MAX));
    assert_eq!(get("C").as_f64(), Some(2.5e-3));
    assert_eq!(get("U").as_string().as_deref(), Some("STRASSE İX"));
    assert_eq!(get("L").as_string().as_deref(), Some("οδος ab"));
}

/// Every row of a table as arrays of JavaScript values.
fn rows(t: &Table) -> Vec<Vec<JsValue>> {
    let view = t.viewport(0, 1_000, None).unwrap();
    array(&view, "rows")
        .into_iter()
        .map(|r| Array::from(&r).iter().collect())
        .collect()
}

/// The operators of issue 15 as a console cell calls them: `SortColumn` directions mixed with
/// names, `selectDistinct`, `headBy`/`tailBy`, `whereIn`/`whereNotIn` against a live table, and
/// the column operators, with their errors.
#[wasm_bindgen_test]
fn distinct_head_by_where_in_and_sort_columns_through_the_js_api() {
    let session = Session::new();
    let t = session
        .new_table(columns(), JsValue::from_str("append"))
        .unwrap();
    t.add_rows(trades(0, 12)).unwrap();
    session.run_cycle().unwrap();

    let directions: Array = [SortColumn::desc("Size"), JsValue::from_str("KafkaOffset")]
        .into_iter()
        .collect();
    let sorted = t.sort(directions.into()).unwrap();
    let sizes: Vec<f64> = rows(&sorted)
        .iter()
        .map(|r| r[3].as_f64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    let bad = t.sort(Object::new().into()).err().map(message).unwrap();
    assert!(bad.contains("SortColumn.asc"), "{bad}");

    let distinct = t
        .select_distinct(list(&["Exchange", "Instrument"]))
        .unwrap();
    assert_eq!(distinct.size().unwrap(), 6.0);
    assert_eq!(
        rows(&distinct)[0]
            .iter()
            .map(|v| v.as_string().unwrap())
            .collect::<Vec<_>>(),
        ["binance", "BTC/USD"]
    );

    let top = sorted.head_by(2.0, list(&["Instrument"])).unwrap();
    assert_eq!(top.size().unwrap(), 6.0);
    let names: Vec<String> = array(&top.viewport(0, 0, None).unwrap(), "columns")
        .iter()
        .map(|c| c.as_string().unwrap())
        .collect();
    assert_eq!(names, ["Instrument", "KafkaOffset", "Exchange", "Size"]);
    let last = t.tail_by(1.0, JsValue::from_str("Exchange")).unwrap();
    assert_eq!(
        rows(&last)
            .iter()
            .map(|r| r[1].as_f64().unwrap())
            .collect::<Vec<_>>(),
        [10.0, 11.0]
    );
    let zero = t
        .head_by(0.0, list(&["Exchange"]))
        .err()
        .map(message)
        .unwrap();
    assert!(zero.contains("greater than zero"), "{zero}");

    let wanted = session
        .new_table(
            [("Venue", "string")]
                .iter()
                .map(|(n, ty)| Array::of2(&JsValue::from_str(n), &JsValue::from_str(ty)))
                .collect::<Array>()
                .into(),
            JsValue::from_str("append"),
        )
        .unwrap();
    // Handing a table to JavaScript moves it: the right side is a live view of `wanted`.
    let right = || JsValue::from(wanted.view(list(&["Venue"]), JsValue::UNDEFINED).unwrap());
    let kept = t.where_in(right(), list(&["Exchange = Venue"])).unwrap();
    let others = t
        .where_not_in(right(), list(&["Exchange = Venue"]))
        .unwrap();
    assert_eq!((kept.size().unwrap(), others.size().unwrap()), (0.0, 12.0));
    let venue: Array = [Array::of1(&JsValue::from_str("kraken"))]
        .into_iter()
        .collect();
    wanted.add_rows(venue.into()).unwrap();
    session.run_cycle().unwrap();
    assert_eq!((kept.size().unwrap(), others.size().unwrap()), (6.0, 6.0));

    let shaped = t
        .rename_columns(list(&["Venue = Exchange"]))
        .unwrap()
        .drop_columns(list(&["KafkaOffset"]))
        .unwrap()
        .move_columns(1.0, list(&["Size"]))
        .unwrap()
        .move_columns_down(list(&["Venue"]))
        .unwrap()
        .move_columns_up(list(&["Size"]))
        .unwrap();
    assert_eq!(
        shaped
            .columns()
            .unwrap()
            .iter()
            .map(|c| c.as_string().unwrap())
            .collect::<Vec<_>>(),
        ["Size", "Instrument", "Venue"]
    );
    assert_eq!(shaped.size().unwrap(), 12.0);
    let unknown = t.drop_columns(list(&["Nope"])).err().map(message).unwrap();
    assert!(unknown.contains("Nope"), "{unknown}");
}

/// `groupBy` makes array columns, which reach JavaScript as arrays (in viewports and through
/// `getColumn`), go back in through `addRows` of an array-typed table, take formulas, and come
/// apart with `ungroup`; `Agg.group` and `Agg.distinct` aggregate into arrays. Grouping a blink
/// table is refused (it would keep every row ever seen), pointing to `dropStream()`.
#[wasm_bindgen_test]
fn arrays_round_trip_through_the_js_api() {
    let session = Session::new();
    let stream = session.new_table(columns(), "stream".into()).unwrap();
    let refused = message(stream.group_by(list(&["Exchange"])).err().unwrap());
    assert!(refused.contains("dropStream()"), "{refused}");
    let trades_table = session.new_table(columns(), "append".into()).unwrap();
    let grouped = trades_table.group_by(list(&["Exchange"])).unwrap();
    let aggs: Array = [
        Agg::group("Sizes = Size"),
        Agg::distinct("Instruments = Instrument", None),
    ]
    .into_iter()
    .collect();
    let arrays = trades_table
        .agg_by(aggs.into(), list(&["Exchange"]))
        .unwrap();
    let reduced = grouped
        .view(
            list(&[
                "Exchange",
                "N = len(Size)",
                "Top = max(Size)",
                "First = Size[0]",
            ]),
            JsValue::UNDEFINED,
        )
        .unwrap();
    let flat = grouped
        .ungroup(list(&["Size", "KafkaOffset"]), Some(false))
        .unwrap();
    trades_table.add_rows(trades(0, 6)).unwrap();
    session.run_cycle().unwrap();

    let types: Vec<String> = grouped
        .column_types()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_string())
        .collect();
    assert_eq!(types, ["string", "long[]", "string[]", "double[]"]);
    let view = grouped.viewport(0, 10, None).unwrap();
    let rows = array(&view, "rows");
    assert_eq!(rows.len(), 2);
    let binance = Array::from(&rows[0]);
    assert_eq!(binance.get(0).as_string().as_deref(), Some("binance"));
    let sizes = binance.get(3);
    assert!(Array::is_array(&sizes), "{sizes:?}");
    let sizes: Vec<f64> = Array::from(&sizes)
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    assert_eq!(sizes, [0.0, 1.0, 2.0]);
    // Cut for display: the first two elements.
    let cut = Array::from(&array(&grouped.viewport(0, 10, Some(2)).unwrap(), "rows")[0]);
    assert_eq!(Array::from(&cut.get(3)).length(), 2);
    let distinct = Array::from(&arrays.get_column("Instruments").unwrap().get(0).unwrap());
    let distinct: Vec<String> = distinct.iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(distinct, ["BTC/USD", "ETH/BTC", "ETH/USD"], "ascending");
    assert_eq!(
        reduced.get_column("N").unwrap().get(1).unwrap().as_f64(),
        Some(3.0)
    );
    assert_eq!(
        reduced.get_column("Top").unwrap().get(1).unwrap().as_f64(),
        Some(2.5)
    );
    assert_eq!(flat.size().unwrap(), 6.0);
    assert_eq!(
        Array::from(&flat.get_column("Instrument").unwrap().get(0).unwrap()).length(),
        3,
        "Instrument stays an array when only Size and KafkaOffset are ungrouped"
    );

    // An array-typed source table takes JS arrays (null elements and null arrays included).
    let typed: JsValue = [("K", "string"), ("P", "double[]"), ("S", "String[]")]
        .iter()
        .map(|(n, t)| Array::of2(&JsValue::from_str(n), &JsValue::from_str(t)))
        .collect::<Array>()
        .into();
    let source = session.new_table(typed, JsValue::UNDEFINED).unwrap();
    let row = Array::new();
    row.push(&"k".into());
    row.push(&Array::of3(&1.5.into(), &JsValue::NULL, &2.0.into()));
    row.push(&JsValue::NULL);
    source.add_rows(Array::of1(&row).into()).unwrap();
    session.run_cycle().unwrap();
    let p = Array::from(&source.get_column("P").unwrap().get(0).unwrap());
    assert_eq!(p.length(), 3);
    assert!(p.get(1).is_null());
    assert!(source.get_column("S").unwrap().get(0).unwrap().is_null());
    let bad = Array::new();
    bad.push(&"k".into());
    bad.push(&Array::of1(&"x".into()));
    bad.push(&JsValue::NULL);
    let e = message(source.add_rows(Array::of1(&bad).into()).err().unwrap());
    assert!(e.contains("double[]"), "{e}");
    // Array aggregations mix with the others, and take nulls when asked.
    let mixed: Array = [
        Agg::group("Sizes = Size"),
        Agg::count("N"),
        Agg::distinct("Venues = Exchange", Some(true)),
    ]
    .into_iter()
    .collect();
    let mixed = trades_table
        .agg_by(mixed.into(), JsValue::UNDEFINED)
        .unwrap();
    trades_table.add_rows(trades(6, 6)).unwrap();
    session.run_cycle().unwrap();
    let venues = Array::from(&mixed.get_column("Venues").unwrap().get(0).unwrap());
    assert_eq!(venues.length(), 2);
    // The append table holds both cycles' rows.
    assert_eq!(
        mixed.get_column("N").unwrap().get(0).unwrap().as_f64(),
        Some(12.0)
    );
}

#[wasm_bindgen_test]
fn match_filters_and_a_filter_on_the_sessions_clock() {
    let session = Session::new();
    let t = session.new_table(columns(), JsValue::UNDEFINED).unwrap();
    let binance = t
        .where_("Exchange in `binance`, `okex`".into(), JsValue::UNDEFINED)
        .unwrap();
    let not_btc = t
        .where_(
            "Instrument icase not in `btc/usd` && Exchange = `kraken`".into(),
            JsValue::UNDEFINED,
        )
        .unwrap();
    t.add_rows(trades(0, 60)).unwrap();
    session.run_cycle().unwrap();
    assert_eq!(binance.size().unwrap(), 30.0);
    let want = (0..60).filter(|i| i % 2 == 1 && i % 3 != 0).count();
    assert_eq!(not_btc.size().unwrap(), want as f64);
    let e = t
        .where_("Exchange in".into(), JsValue::UNDEFINED)
        .err()
        .unwrap();
    assert_eq!(
        message(e),
        "formula error at position 11: expected a value after 'in', found the end of the formula"
    );

    // A fixed clock: rows whose Deadline has passed leave as it moves, with no new rows.
    let timed = session
        .new_table(
            [("Deadline", "timestamp")]
                .iter()
                .map(|(n, t)| Array::of2(&JsValue::from_str(n), &JsValue::from_str(t)))
                .collect::<Array>()
                .into(),
            JsValue::UNDEFINED,
        )
        .unwrap();
    let open = timed
        .where_("Deadline >= now()".into(), JsValue::UNDEFINED)
        .unwrap();
    let rows: Array = (1..=5)
        .map(|i| JsValue::from(Array::of1(&js_sys::BigInt::from(i * 100).into())))
        .collect();
    timed.add_rows(rows.into()).unwrap();
    session.set_clock(js_sys::BigInt::from(150).into()).unwrap();
    assert_eq!(i64::try_from(session.now()).unwrap(), 150);
    session.run_cycle().unwrap();
    assert_eq!(open.size().unwrap(), 4.0);
    session.set_clock(js_sys::BigInt::from(401).into()).unwrap();
    session.run_cycle().unwrap();
    assert_eq!(open.size().unwrap(), 1.0);
    // Back at 150: the deadlines that passed are open again, as in a new where.
    session.set_clock(js_sys::BigInt::from(150).into()).unwrap();
    session.run_cycle().unwrap();
    assert_eq!(open.size().unwrap(), 4.0);
    let e = session.set_clock("soon".into()).err().unwrap();
    assert!(message(e).starts_with("setClock takes nanoseconds"));
    // Handed back to the data (none here): wall time, far past every deadline.
    session.set_clock(JsValue::NULL).unwrap();
    assert!(i64::try_from(session.now()).unwrap() > 1_700_000_000_000_000_000);
    session.run_cycle().unwrap();
    assert_eq!(open.size().unwrap(), 0.0);
}

/// A plain object of `fields`.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

/// `updateBy` as a console cell calls it: the `UpdateBy` helpers with tick and time windows
/// (durations as text, nanoseconds or a BigInt), the exponential decays and their controls,
/// `delta`'s null behaviour, and the errors a wrong window or control gives.
#[wasm_bindgen_test]
fn update_by_through_the_js_api() {
    let session = Session::new();
    let t = session
        .new_table(columns(), JsValue::from_str("append"))
        .unwrap();
    let ticks = object(&[("revTicks", 2.into())]);
    let time = |rev: JsValue| object(&[("timestampCol", "KafkaOffset".into()), ("revTime", rev)]);
    let ops: Array = [
        UpdateBy::rolling_avg(ticks.clone(), "Avg2 = Size".into()),
        UpdateBy::rolling_sum(time(JsValue::from_str("PT1s")), "SumAll = Size".into()),
        UpdateBy::rolling_count(time(2.into()), "Last3 = Size".into()),
        UpdateBy::rolling_count(
            time(js_sys::BigInt::from(2).into()),
            "Last3Big = Size".into(),
        ),
        UpdateBy::ema(
            object(&[("ticks", 2.into())]),
            "Ema = Size".into(),
            JsValue::UNDEFINED,
        ),
        UpdateBy::delta("D = Size".into(), "ZERO_DOMINATES".into()),
        UpdateBy::cum_max(list(&["Top = Size"])),
    ]
    .into_iter()
    .collect();
    let by = t.update_by(ops.into(), list(&["Instrument"])).unwrap();
    let whole = t
        .update_by(UpdateBy::cum_sum("Size".into()), JsValue::UNDEFINED)
        .unwrap();
    t.add_rows(trades(0, 12)).unwrap();
    session.run_cycle().unwrap();
    let size = |i: usize| (i % 7) as f64 * 0.5;
    let read = |table: &Table, name: &str, i: u32| {
        table
            .get_column(name)
            .unwrap()
            .get(i)
            .unwrap()
            .as_f64()
            .unwrap()
    };
    let alpha = (-0.5f64).exp();
    let mut running = 0.0;
    for i in 0..12usize {
        // The instrument of row i is i % 3: its previous row is i - 3.
        let prev = i.checked_sub(3).map(size);
        let avg = prev.map_or(size(i), |p| (size(i) + p) / 2.0);
        assert_eq!(read(&by, "Avg2", i as u32), avg, "row {i}");
        let same: Vec<f64> = (0..=i).filter(|j| j % 3 == i % 3).map(size).collect();
        assert_eq!(read(&by, "SumAll", i as u32), same.iter().sum::<f64>());
        // Offsets within 2 of this one, of its instrument: the row alone.
        assert_eq!(read(&by, "Last3", i as u32), 1.0);
        assert_eq!(read(&by, "Last3Big", i as u32), 1.0);
        let ema = same
            .iter()
            .skip(1)
            .fold(same[0], |e, x| alpha * e + (1.0 - alpha) * x);
        assert!((read(&by, "Ema", i as u32) - ema).abs() < 1e-12, "row {i}");
        assert_eq!(read(&by, "D", i as u32), prev.map_or(0.0, |p| size(i) - p));
        let top = same.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(read(&by, "Top", i as u32), top);
        running += size(i);
        assert_eq!(read(&whole, "Size", i as u32), running);
    }

    let bad = |op: JsValue| message(t.update_by(op, JsValue::UNDEFINED).err().unwrap());
    let e = bad(UpdateBy::rolling_sum(
        Object::new().into(),
        "S = Size".into(),
    ));
    assert!(e.contains("revTicks"), "{e}");
    let e = bad(UpdateBy::rolling_sum(
        time("PT1x".into()),
        "S = Size".into(),
    ));
    assert!(e.contains("revTime"), "{e}");
    let e = bad(UpdateBy::ema(
        object(&[("ticks", 2.into())]),
        "E = Size".into(),
        object(&[("onNullValue", "SOMETIMES".into())]),
    ));
    assert!(e.contains("onNullValue"), "{e}");
    let e = bad(UpdateBy::delta("D = Size".into(), "MAYBE".into()));
    assert!(e.contains("VALUE_DOMINATES"), "{e}");
    let e = bad(UpdateBy::rolling_sum(ticks, "S = Exchange".into()));
    assert!(e.contains("Exchange"), "{e}");
}
