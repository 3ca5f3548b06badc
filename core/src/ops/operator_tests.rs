//! `selectDistinct`, `headBy`/`tailBy`, `whereIn`/`whereNotIn` and the column operators, checked
//! after every cycle against a from-scratch reference over append, stream (blink), ring and
//! dropStream sources, with random cycles and random keys (and for `whereIn` a random live right
//! table of each kind).

use proptest::prelude::*;

use super::tests::{Row, arb_row, assert_rows_eq, column, schema};
use crate::column::{ColumnType, Value};
use crate::table::{Batch, Engine, Schema, Table, Update};

/// Every source kind of [`schema`]: (name, table).
struct Sources {
    engine: Engine,
    append: Table,
    stream: Table,
    ring: Table,
    dropped_stream: Table,
    dropped_ring: Table,
}

impl Sources {
    fn new(ring_capacity: usize) -> Self {
        let engine = Engine::new();
        let append = engine.append_table(schema());
        let stream = engine.stream_table(schema());
        let ring = engine.ring_table(schema(), ring_capacity);
        let dropped_stream = stream.drop_stream().unwrap();
        let dropped_ring = ring.drop_stream().unwrap();
        Self {
            engine,
            append,
            stream,
            ring,
            dropped_stream,
            dropped_ring,
        }
    }

    fn all(&self) -> [(&'static str, &Table); 5] {
        [
            ("append", &self.append),
            ("stream", &self.stream),
            ("ring", &self.ring),
            ("stream.dropStream", &self.dropped_stream),
            ("ring.dropStream", &self.dropped_ring),
        ]
    }

    fn feed(&self, rows: &[Row]) {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        for source in [&self.append, &self.stream, &self.ring] {
            source.add(batch.clone()).unwrap();
        }
        self.engine.run_cycle().unwrap();
    }
}

/// What each source's derived table covers now, and in which history tuples first appeared:
/// (rows covered, rows in order of arrival since the operator began, blink).
struct Covered<'a> {
    rows: &'a [Row],
    /// The rows whose order of first appearance orders groups.
    history: &'a [Row],
    blink: bool,
}

/// `ring_seen`: every row that was in the ring at the end of a cycle (a row that came and went
/// within one cycle was never covered).
fn covered<'a>(
    source: &str,
    everything: &'a [Row],
    cycle: &'a [Row],
    ring_rows: &'a [Row],
    ring_seen: &'a [Row],
) -> Covered<'a> {
    match source {
        "append" => Covered {
            rows: everything,
            history: everything,
            blink: false,
        },
        "stream" => Covered {
            rows: everything,
            history: everything,
            blink: true,
        },
        "ring" | "ring.dropStream" => Covered {
            rows: ring_rows,
            history: ring_seen,
            blink: false,
        },
        _ => Covered {
            rows: cycle,
            history: cycle,
            blink: false,
        },
    }
}

fn key_of(row: &Row, keys: &[usize]) -> Row {
    keys.iter()
        .map(|&k| match &row[k] {
            // -0.0 and 0.0 are one key, shown as the engine codes it.
            Value::F64(x) if *x == 0.0 => Value::F64(0.0),
            v => v.clone(),
        })
        .collect()
}

/// The tuples of `keys` present in `covered.rows`, ordered by first appearance in its history.
fn groups_of(covered: &Covered<'_>, keys: &[usize]) -> Vec<Row> {
    let mut order: Vec<Row> = Vec::new();
    for row in covered.history {
        let key = key_of(row, keys);
        if !order.contains(&key) {
            order.push(key);
        }
    }
    let present: Vec<Row> = covered.rows.iter().map(|r| key_of(r, keys)).collect();
    order.into_iter().filter(|k| present.contains(k)).collect()
}

fn indices(keys: &[&str]) -> Vec<usize> {
    keys.iter().map(|k| column(k)).collect()
}

const KEY_SETS: &[&[&str]] = &[
    &[],
    &["Exchange"],
    &["Exchange", "Instrument"],
    &["Qty", "Flag", "Instrument"],
    &["Size"],
];

/// `headBy`/`tailBy` from scratch: key columns first, groups in order of first appearance, the
/// first or last `n` of each group's covered rows in order.
fn reference_slice_by(covered: &Covered<'_>, keys: &[usize], n: usize, head: bool) -> Vec<Row> {
    let width = covered.rows.first().map_or(0, Vec::len);
    let others: Vec<usize> = (0..schema().len()).filter(|c| !keys.contains(c)).collect();
    let mut out = Vec::new();
    for group in groups_of(covered, keys) {
        let members: Vec<&Row> = covered
            .rows
            .iter()
            .filter(|r| key_of(r, keys) == group)
            .collect();
        let take = n.min(members.len());
        let chosen = if head {
            &members[..take]
        } else {
            &members[members.len() - take..]
        };
        for row in chosen {
            let mut shaped: Row = keys.iter().map(|&k| row[k].clone()).collect();
            shaped.extend(others.iter().map(|&c| row[c].clone()));
            debug_assert_eq!(shaped.len(), width);
            out.push(shaped);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// `selectDistinct`, `headBy` and `tailBy` of every source kind equal a recomputation after
    /// every cycle.
    #[test]
    fn distinct_head_and_tail_by_equal_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..12),
        ring_capacity in 1usize..40,
        n in 1usize..4,
    ) {
        let sources = Sources::new(ring_capacity);
        let mut built = Vec::new();
        for keys in KEY_SETS {
            for (name, t) in sources.all() {
                built.push((name, "distinct", *keys, t.select_distinct(keys).unwrap()));
                built.push((name, "head", *keys, t.head_by(n, keys).unwrap()));
                built.push((name, "tail", *keys, t.tail_by(n, keys).unwrap()));
            }
        }
        let mut everything: Vec<Row> = Vec::new();
        let mut ring_seen: Vec<Row> = Vec::new();
        for rows in &cycles {
            sources.feed(rows);
            everything.extend(rows.iter().cloned());
            ring_seen.extend(rows[rows.len().saturating_sub(ring_capacity)..].iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, op, keys, table) in &built {
                let c = covered(source, &everything, rows, &ring_rows, &ring_seen);
                let k = indices(keys);
                let want = match *op {
                    "distinct" => groups_of(&c, &k),
                    "head" => reference_slice_by(&c, &k, n, true),
                    _ => reference_slice_by(&c, &k, n, false),
                };
                let what = format!("{source}.{op} by {keys:?}");
                assert_rows_eq(&table.all_rows(), &want, &what)?;
                prop_assert!(table.error().is_none(), "{}", what);
                prop_assert!(!table.is_blink() || c.blink, "{}", what);
            }
        }
    }
}

#[test]
fn select_distinct_adds_new_tuples_in_place_and_no_column_is_one_tuple() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let distinct = t.select_distinct(&["Exchange"]).unwrap();
    let none = t.select_distinct(&[]).unwrap();
    let row = |e: &str| {
        let mut r = vec![Value::Null; 6];
        r[0] = Value::String(e.into());
        r
    };
    assert_eq!(none.size(), 0, "no tuple before a row");
    t.add(Batch::from_rows(&schema(), &[row("a"), row("b"), row("a")]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(none.size(), 1);
    assert_eq!(
        distinct.last_update(),
        Some(Update::Fifo {
            removed: 0,
            added: 2
        })
    );
    t.add(Batch::from_rows(&schema(), &[row("b"), row("c")]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(
        distinct.last_update(),
        Some(Update::Fifo {
            removed: 0,
            added: 1
        }),
        "only the new tuple is added"
    );
    t.add(Batch::from_rows(&schema(), &[row("c")]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(distinct.last_update(), None, "no new tuple, no change");
    let got: Vec<Value> = distinct
        .all_rows()
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        got,
        ["a", "b", "c"].map(|s| Value::String(s.into())).to_vec()
    );
}

#[test]
fn head_by_and_tail_by_refuse_bad_arguments() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let e = t.head_by(0, &["Exchange"]).err().unwrap().to_string();
    assert!(
        e.contains("headBy") && e.contains("greater than zero"),
        "{e}"
    );
    let e = t.tail_by(0, &["Exchange"]).err().unwrap().to_string();
    assert!(e.contains("tailBy"), "{e}");
    let e = t.head_by(2, &["Nope"]).err().unwrap().to_string();
    assert!(e.contains("Nope") && e.contains("Exchange"), "{e}");
    let e = t
        .tail_by(2, &["Exchange", "Exchange"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let e = t.select_distinct(&["Missing"]).err().unwrap().to_string();
    assert!(e.contains("Missing"), "{e}");
}

fn right_schema() -> Schema {
    Schema::of(&[("Venue", ColumnType::String), ("Q", ColumnType::I32)]).unwrap()
}

fn arb_right_row() -> impl Strategy<Value = Row> {
    (
        proptest::option::weighted(
            0.85,
            proptest::sample::select(&["binance", "kraken", "gemini", "lgo", "okex"][..]),
        ),
        proptest::option::weighted(0.85, -3i32..4),
    )
        .prop_map(|(v, q)| {
            vec![
                v.map_or(Value::Null, |s| Value::String(s.into())),
                q.map_or(Value::Null, Value::I32),
            ]
        })
}

/// A match spec and, per pair, (left column, right column).
type Match = (&'static [&'static str], &'static [(usize, usize)]);

const MATCHES: &[Match] = &[
    (&["Exchange = Venue"], &[(0, 0)]),
    (&["Exchange = Venue", "Qty = Q"], &[(0, 0), (3, 1)]),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// `whereIn` and `whereNotIn` of every left source kind against a live right table (append,
    /// ring or blink) equal a recomputation after every cycle; a cycle whose right change flips
    /// no left row's membership leaves the result's rows in place.
    #[test]
    fn where_in_against_a_live_right_table_equals_a_recomputation(
        cycles in proptest::collection::vec(
            (proptest::collection::vec(arb_row(), 0..20),
             proptest::collection::vec(arb_right_row(), 0..4)), 1..12),
        ring_capacity in 1usize..40,
        right_kind in 0usize..3,
        right_capacity in 1usize..6,
    ) {
        let sources = Sources::new(ring_capacity);
        let engine = &sources.engine;
        let right = match right_kind {
            0 => engine.append_table(right_schema()),
            1 => engine.ring_table(right_schema(), right_capacity),
            _ => engine.stream_table(right_schema()),
        };
        let mut built = Vec::new();
        for (m, (spec, _)) in MATCHES.iter().enumerate() {
            for (name, t) in sources.all() {
                built.push((name, m, true, t.where_in(&right, spec).unwrap()));
                built.push((name, m, false, t.where_not_in(&right, spec).unwrap()));
            }
        }
        let mut everything: Vec<Row> = Vec::new();
        let mut right_rows: Vec<Row> = Vec::new();
        for (rows, rights) in &cycles {
            right.add(Batch::from_rows(&right_schema(), rights).unwrap()).unwrap();
            sources.feed(rows);
            everything.extend(rows.iter().cloned());
            right_rows.extend(rights.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            let right_set: &[Row] = match right_kind {
                1 => &right_rows[right_rows.len().saturating_sub(right_capacity)..],
                // A blink right table stands for every tuple it ever had.
                _ => &right_rows,
            };
            for (source, m, inclusion, table) in &built {
                let input: &[Row] = match *source {
                    "append" => &everything,
                    "ring" | "ring.dropStream" => &ring_rows,
                    _ => rows,
                };
                let pairs = MATCHES[*m].1;
                let want: Vec<Row> = input
                    .iter()
                    .filter(|l| {
                        let member = right_set
                            .iter()
                            .any(|r| pairs.iter().all(|&(lc, rc)| l[lc] == r[rc]));
                        member == *inclusion
                    })
                    .cloned()
                    .collect();
                let what = format!("{source}.{} {:?}", if *inclusion { "whereIn" } else { "whereNotIn" }, MATCHES[*m].0);
                assert_rows_eq(&table.all_rows(), &want, &what)?;
                prop_assert!(table.error().is_none(), "{}", what);
                prop_assert_eq!(table.is_blink(), *source == "stream", "{}", what);
            }
        }
    }
}

#[test]
fn where_in_leaves_its_rows_in_place_when_the_right_change_matters_to_none() {
    let engine = Engine::new();
    let left_schema = Schema::of(&[("K", ColumnType::I64)]).unwrap();
    let left = engine.append_table(left_schema.clone());
    let right = engine.append_table(left_schema.clone());
    let kept = left.where_in(&right, &["K"]).unwrap();
    let batch = |keys: &[i64]| {
        let rows: Vec<Row> = keys.iter().map(|&k| vec![Value::I64(k)]).collect();
        Batch::from_rows(&left_schema, &rows).unwrap()
    };
    left.add(batch(&[1, 2, 3, 1])).unwrap();
    right.add(batch(&[1])).unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(kept.size(), 2);
    // A right key no left row has, and new left rows: the result only grows at its back.
    right.add(batch(&[7])).unwrap();
    left.add(batch(&[7, 2])).unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(
        kept.last_update(),
        Some(Update::Fifo {
            removed: 0,
            added: 1
        })
    );
    // A right key that old left rows have: they join the result, in the parent's order.
    right.add(batch(&[2])).unwrap();
    engine.run_cycle().unwrap();
    let got: Vec<Value> = kept.all_rows().into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(got, [1, 2, 1, 7, 2].map(Value::I64).to_vec());
}

#[test]
fn where_in_refuses_bad_match_columns() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let r = engine.append_table(right_schema());
    let e = t.where_in(&r, &["Qty = Venue"]).err().unwrap().to_string();
    assert!(
        e.contains("whereIn") && e.contains("int") && e.contains("string"),
        "{e}"
    );
    let e = t
        .where_not_in(&r, &["Exchange = Nope"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Nope") && e.contains("Venue"), "{e}");
    let e = t.where_in(&r, &[]).err().unwrap().to_string();
    assert!(e.contains("no column"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The column operators mirror their parent, row for row, over every source kind.
    #[test]
    fn column_operators_mirror_their_parent_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..10),
        ring_capacity in 1usize..40,
    ) {
        let sources = Sources::new(ring_capacity);
        // (operation, result names, the parent column of each result column)
        let mut built = Vec::new();
        for (name, t) in sources.all() {
            built.push((name, t.rename_columns(&["Venue = Exchange", "Size = Qty"]).unwrap(),
                vec!["Venue", "Instrument", "Size", "Flag", "Ts"], vec![0, 1, 3, 4, 5]));
            built.push((name, t.drop_columns(&["Size", "Flag"]).unwrap(),
                vec!["Exchange", "Instrument", "Qty", "Ts"], vec![0, 1, 3, 5]));
            built.push((name, t.move_columns(1, &["Ts", "Qty"]).unwrap(),
                vec!["Exchange", "Ts", "Qty", "Instrument", "Size", "Flag"], vec![0, 5, 3, 1, 2, 4]));
            built.push((name, t.move_columns_up(&["Flag"]).unwrap(),
                vec!["Flag", "Exchange", "Instrument", "Size", "Qty", "Ts"], vec![4, 0, 1, 2, 3, 5]));
            built.push((name, t.move_columns_down(&["Exchange"]).unwrap(),
                vec!["Instrument", "Size", "Qty", "Flag", "Ts", "Exchange"], vec![1, 2, 3, 4, 5, 0]));
            // A sorted parent rewrites itself each cycle.
            built.push((name, t.sort(&["Qty"]).unwrap().drop_columns(&["Ts"]).unwrap(),
                vec!["Exchange", "Instrument", "Size", "Qty", "Flag"], vec![]));
        }
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            sources.feed(rows);
            everything.extend(rows.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, table, names, from) in &built {
                let schema = table.schema();
                prop_assert_eq!(&schema.names(), names);
                let input: &[Row] = match *source {
                    "append" => &everything,
                    "ring" | "ring.dropStream" => &ring_rows,
                    _ => rows,
                };
                if from.is_empty() {
                    prop_assert_eq!(table.size(), input.len());
                    continue;
                }
                let want: Vec<Row> = input
                    .iter()
                    .map(|r| from.iter().map(|&c| r[c].clone()).collect())
                    .collect();
                assert_rows_eq(&table.all_rows(), &want, &format!("{source} {names:?}"))?;
                prop_assert_eq!(table.is_blink(), *source == "stream");
            }
        }
    }
}

#[test]
fn column_operators_follow_deephavens_errors() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let e = t.drop_columns(&["Nope"]).err().unwrap().to_string();
    assert!(e.contains("Nope") && e.contains("Exchange"), "{e}");
    let e = t.rename_columns(&["X = Nope"]).err().unwrap().to_string();
    assert!(e.contains("Nope"), "{e}");
    let e = t.rename_columns(&["Exchange"]).err().unwrap().to_string();
    assert!(e.contains("New = Old"), "{e}");
    let e = t
        .rename_columns(&["A = Exchange", "B = Exchange"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let e = t
        .rename_columns(&["A = Exchange", "A = Size"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("\"A\"") && e.contains("twice"), "{e}");
    let e = t.move_columns(6, &["Ts"]).err().unwrap().to_string();
    assert!(e.contains("index 6"), "{e}");
    let e = t.move_columns(0, &["Ts", "Ts"]).err().unwrap().to_string();
    assert!(e.contains("twice"), "{e}");
    // Swapping two names is a rename of both, each keeping its place.
    let swapped = t
        .rename_columns(&["Exchange = Instrument", "Instrument = Exchange"])
        .unwrap();
    assert_eq!(
        swapped.schema().names(),
        ["Instrument", "Exchange", "Size", "Qty", "Flag", "Ts"]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Mixed sort directions (`-Name`, `Name desc`, `sortDescending`) over every source kind,
    /// dropStreams included, equal a stable sort of what the source holds.
    #[test]
    fn mixed_direction_sorts_equal_a_recomputation(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..10),
        ring_capacity in 1usize..40,
    ) {
        let sources = Sources::new(ring_capacity);
        let mut built = Vec::new();
        for (name, t) in sources.all() {
            built.push((name, true, t.sort(&["Instrument desc", "Qty"]).unwrap()));
            built.push((name, true, t.sort(&["-Instrument", "Qty"]).unwrap()));
            built.push((name, false, t.sort_descending(&["Instrument"]).unwrap()));
        }
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            sources.feed(rows);
            everything.extend(rows.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, by_qty, table) in &built {
                let input: &[Row] = match *source {
                    "append" => &everything,
                    "ring" | "ring.dropStream" => &ring_rows,
                    _ => rows,
                };
                // Instrument descending (nulls last), then Qty ascending (nulls first), stable.
                let mut want = input.to_vec();
                let text = |r: &Row| match &r[1] { Value::String(s) => Some(s.clone()), _ => None };
                let qty = |r: &Row| match r[3] { Value::I32(q) => Some(q), _ => None };
                want.sort_by(|a, b| {
                    let by_text = text(b).cmp(&text(a));
                    if *by_qty { by_text.then(qty(a).cmp(&qty(b))) } else { by_text }
                });
                assert_rows_eq(&table.all_rows(), &want, source)?;
            }
        }
    }
}
