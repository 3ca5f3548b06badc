//! The formula language: Deephaven-compatible expressions, compiled once, evaluated per batch.
//!
//! A formula is `Name = expr` (for `view`, `updateView`, `update`, `select`) or a bare `expr` (for
//! `where` and formats). It may use column references, numeric literals, string literals in
//! backticks (or double quotes), `true`, `false`, `null`, `+ - * / %`, comparisons, `&& || !`, the
//! ternary operator, the functions `max min abs sqrt floor ceil round isNull`, the string methods
//! `startsWith endsWith contains length toUpperCase toLowerCase`, variables the host binds
//! (the seed's `size_offset`), match filters (`X in a, b`, `X icase not in ...`, `inRange`) and
//! `now()` (see [`matching`]). A `where` filter ([`compile_filter`]) reads `=` as `==`. Array
//! columns (`groupBy`'s) may be indexed, `Prices[0]`, and reduced by `len sum avg min max` of one
//! argument (see [`arrays`]).
//! Time: literals in single quotes (`'2026-01-05T17:00:00Z'`, `'PT1m'`, `'2026-01-05'`,
//! `'12:30'`), `SECOND` … `WEEK`, instant arithmetic, and Deephaven's time functions
//! (`lowerBin`, `hourOfDay(Ts, 'ET')`, …; see `time`).
//!
//! Types follow Deephaven (Java): `int op int` is `int`, mixed numbers widen to `long` then
//! `double`, `/` always gives `double`, `+` with a string concatenates. Nulls propagate: arithmetic
//! with a null gives null; `==` and `!=` compare nullness; `<`, `<=`, `>`, `>=` with a null are
//! false; `&&`, `||` and `where` treat a null boolean as false.
//!
//! [`compile`] resolves names and types once and reports the first problem with its byte position
//! and the offending token; [`Formula::eval`] then runs over a range of rows, column at a time.

mod arrays;
mod eval;
mod lexer;
mod matching;
mod parser;
#[cfg(test)]
mod tests;
mod time;
#[cfg(all(test, feature = "tzdb"))]
mod time_range_tests;
#[cfg(test)]
mod time_tests;

use rustc_hash::FxHashMap;
use std::sync::Arc;

pub use eval::Vector;
use parser::Expr;

use crate::column::{ColumnType, Value};
use crate::table::Schema;
use crate::time::zone::Zone;
use crate::{Error, Result};

/// Variables a formula may use besides columns, such as the seed's `size_offset`.
pub type Variables = FxHashMap<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Max,
    Min,
    Abs,
    Sqrt,
    Floor,
    Ceil,
    Round,
    IsNull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrMethod {
    StartsWith,
    EndsWith,
    Contains,
    Length,
    ToUpper,
    ToLower,
}

/// A typed expression node. `ty` is `None` only for a bare `null`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub ty: Option<ColumnType>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Column(usize),
    Const(Value),
    /// The row's position in the table: `i` (an int) or `ii` (a long).
    RowIndex,
    /// Numeric widening to `ty`.
    Cast(Box<Node>),
    Neg(Box<Node>),
    Not(Box<Node>),
    /// `+ - * / %` on operands already of type `ty` (or `F64` for `/`).
    Arith(&'static str, Box<Node>, Box<Node>),
    Concat(Box<Node>, Box<Node>),
    /// Comparison of two operands of one type.
    Cmp(&'static str, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Ternary(Box<Node>, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    /// A time function, with its time zone (resolved when the formula compiled).
    Time(time::TimeFn, Vec<Node>, Option<Arc<Zone>>),
    Method(StrMethod, Box<Node>, Option<Box<Node>>),
    /// `array[index]`, of the element type.
    Index(Box<Node>, Box<Node>),
    /// `len sum avg min max` of one array.
    ArrayFn(arrays::ArrayFn, Box<Node>),
    /// A match filter (`in`, `=` with a constant): see [`matching`].
    Match(Box<matching::Match>),
    /// `inRange(value, low, high)`, of one comparable type.
    InRange(Box<[Node; 3]>),
    /// `now()`: the engine's clock when the formula runs.
    Now(matching::Clock),
}

/// A compiled formula.
#[derive(Debug, Clone)]
pub struct Formula {
    /// The output column (`Name = ...`), or the column name for a bare column reference.
    pub name: Option<String>,
    pub text: String,
    pub ty: ColumnType,
    pub(crate) root: Node,
    /// The input columns it reads.
    pub columns: Vec<usize>,
    /// The clock `now()` reads, if the formula calls it.
    pub(crate) clock: Option<matching::Clock>,
    /// Whether it reads `i` or `ii`.
    pub(crate) reads_position: bool,
}

pub(crate) fn err<T>(position: usize, message: impl Into<String>) -> Result<T> {
    Err(Error::Formula {
        position,
        message: message.into(),
    })
}

fn rank(ty: ColumnType) -> u8 {
    match ty {
        ColumnType::I32 => 1,
        ColumnType::I64 => 2,
        ColumnType::F64 => 3,
        _ => 0,
    }
}

fn widen(node: Node, to: ColumnType) -> Node {
    if node.ty == Some(to) {
        return node;
    }
    Node {
        kind: Kind::Cast(Box::new(node)),
        ty: Some(to),
    }
}

fn null_of(ty: ColumnType) -> Node {
    Node {
        kind: Kind::Const(Value::Null),
        ty: Some(ty),
    }
}

struct Compiler<'a> {
    schema: &'a Schema,
    variables: &'a Variables,
    columns: Vec<usize>,
    clock: Option<matching::Clock>,
    reads_position: bool,
}

impl Compiler<'_> {
    fn node(&mut self, expr: &Expr) -> Result<Node> {
        let constant = |value: Value, ty| Node {
            kind: Kind::Const(value),
            ty: Some(ty),
        };
        Ok(match expr {
            Expr::Int(v, p) => match i32::try_from(*v) {
                Ok(v) => constant(Value::I32(v), ColumnType::I32),
                Err(_) if *v != i64::MIN => constant(Value::I64(*v), ColumnType::I64),
                Err(_) => return err(*p, "integer literal out of range"),
            },
            Expr::Long(v, _) => constant(Value::I64(*v), ColumnType::I64),
            Expr::Float(v, _) => constant(Value::F64(*v), ColumnType::F64),
            Expr::Str(s, _) => constant(Value::String(s.clone()), ColumnType::String),
            Expr::Time(text, p) => {
                use crate::time::literal::{Literal, parse};
                match parse(text).or_else(|m| err(*p, m))? {
                    Literal::Instant(v) => constant(Value::Timestamp(v), ColumnType::Timestamp),
                    Literal::Duration(v) => constant(Value::I64(v), ColumnType::I64),
                    Literal::Date(v) => constant(Value::Date(v), ColumnType::Date),
                    Literal::Time(v) => constant(Value::Time(v), ColumnType::Time),
                    Literal::Zone(_) => {
                        return err(
                            *p,
                            format!(
                                "'{text}' is a time zone, which is only an argument of a time \
                                 function (hourOfDay(Ts, '{text}'))"
                            ),
                        );
                    }
                }
            }
            Expr::Bool(b, _) => constant(Value::Bool(*b), ColumnType::Bool),
            Expr::Null(_) => Node {
                kind: Kind::Const(Value::Null),
                ty: None,
            },
            Expr::Ident(name, p) => {
                if let Ok(index) = self.schema.index_of(name) {
                    let ty = self.schema.fields()[index].ty;
                    arrays::check_column(name, ty, *p)?;
                    if ty == ColumnType::Binary {
                        return err(
                            *p,
                            format!("column {name} is a {ty}, which formulas do not support yet"),
                        );
                    }
                    if !self.columns.contains(&index) {
                        self.columns.push(index);
                    }
                    Node {
                        kind: Kind::Column(index),
                        ty: Some(self.schema.fields()[index].ty),
                    }
                } else if let Some(value) = self.variables.get(name) {
                    let ty = match value {
                        Value::Null => return err(*p, format!("variable {name} is null")),
                        Value::Bool(_) => ColumnType::Bool,
                        Value::I32(_) => ColumnType::I32,
                        Value::I64(_) => ColumnType::I64,
                        Value::F64(_) => ColumnType::F64,
                        Value::Timestamp(_) => ColumnType::Timestamp,
                        Value::String(_) => ColumnType::String,
                        Value::Date(_) => ColumnType::Date,
                        Value::Time(_) => ColumnType::Time,
                        Value::Binary(_) | Value::Array(_) => {
                            return err(
                                *p,
                                format!("variable {name}: formulas do not support its type yet"),
                            );
                        }
                    };
                    constant(value.clone(), ty)
                } else if let Some(nanos) = crate::time::constant(name) {
                    constant(Value::I64(nanos), ColumnType::I64)
                } else if name == "i" || name == "ii" {
                    self.reads_position = true;
                    Node {
                        kind: Kind::RowIndex,
                        ty: Some(if name == "i" {
                            ColumnType::I32
                        } else {
                            ColumnType::I64
                        }),
                    }
                } else {
                    return err(
                        *p,
                        format!(
                            "unknown column or variable {name} (columns: {})",
                            self.schema.names().join(", ")
                        ),
                    );
                }
            }
            Expr::Unary(op, arg, p) => {
                let arg = self.node(arg)?;
                match (*op, arg.ty) {
                    ("!", Some(ColumnType::Bool)) => Node {
                        kind: Kind::Not(Box::new(arg)),
                        ty: Some(ColumnType::Bool),
                    },
                    ("-", Some(ty)) if ty.is_numeric() => Node {
                        kind: Kind::Neg(Box::new(arg)),
                        ty: Some(ty),
                    },
                    (_, ty) => return err(*p, format!("'{op}' does not apply to {}", show(ty))),
                }
            }
            Expr::Binary(op, left, right, p) => {
                matching::lower_equality(self.binary(op, left, right, *p)?)
            }
            Expr::Match(m, p) => self.match_filter(m, *p)?,
            Expr::Ternary(c, a, b, p) => {
                let c = self.node(c)?;
                if c.ty != Some(ColumnType::Bool) {
                    return err(
                        *p,
                        format!("the condition of '?' must be boolean, not {}", show(c.ty)),
                    );
                }
                let (a, b) = (self.node(a)?, self.node(b)?);
                let (a, b) = self.unify(a, b, *p, "?:")?;
                let ty = a.ty;
                Node {
                    kind: Kind::Ternary(Box::new(c), Box::new(a), Box::new(b)),
                    ty,
                }
            }
            Expr::Call(name, args, p) => self.call(name, args, *p)?,
            Expr::Index(array, index, p) => {
                let (array, index) = (self.node(array)?, self.node(index)?);
                arrays::index(array, index, *p)?
            }
            Expr::Method(receiver, name, args, p) => {
                let receiver = self.node(receiver)?;
                if receiver.ty != Some(ColumnType::String) {
                    return err(
                        *p,
                        format!("{name}() is a string method; this is {}", show(receiver.ty)),
                    );
                }
                let (method, arity, ty) = match name.as_str() {
                    "startsWith" => (StrMethod::StartsWith, 1, ColumnType::Bool),
                    "endsWith" => (StrMethod::EndsWith, 1, ColumnType::Bool),
                    "contains" => (StrMethod::Contains, 1, ColumnType::Bool),
                    "length" => (StrMethod::Length, 0, ColumnType::I32),
                    "toUpperCase" => (StrMethod::ToUpper, 0, ColumnType::String),
                    "toLowerCase" => (StrMethod::ToLower, 0, ColumnType::String),
                    _ => return err(*p, format!("unknown string method {name}")),
                };
                if matches!(method, StrMethod::ToUpper | StrMethod::ToLower) {
                    crate::text::require(&format!("{name}()")).or_else(|m| err(*p, m))?;
                }
                if args.len() != arity {
                    return err(
                        *p,
                        format!("{name}() takes {arity} argument(s), not {}", args.len()),
                    );
                }
                let arg = match args.first() {
                    Some(a) => {
                        let a = self.node(a)?;
                        if a.ty != Some(ColumnType::String) {
                            return err(
                                a_pos(args),
                                format!("{name}() takes a string, not {}", show(a.ty)),
                            );
                        }
                        Some(Box::new(a))
                    }
                    None => None,
                };
                Node {
                    kind: Kind::Method(method, Box::new(receiver), arg),
                    ty: Some(ty),
                }
            }
        })
    }

    /// Brings two operands to one type (numbers widen; `null` takes the other's type).
    fn unify(&self, a: Node, b: Node, p: usize, what: &str) -> Result<(Node, Node)> {
        arrays::refuse_in(what, &a, &b, p)?;
        match (a.ty, b.ty) {
            (None, None) => err(p, format!("'{what}' needs at least one typed operand")),
            (None, Some(t)) => Ok((null_of(t), b)),
            (Some(t), None) => Ok((a, null_of(t))),
            (Some(x), Some(y)) if x == y => Ok((a, b)),
            (Some(x), Some(y)) if x.is_numeric() && y.is_numeric() => {
                let to = if rank(x) >= rank(y) { x } else { y };
                Ok((widen(a, to), widen(b, to)))
            }
            (x, y) => err(
                p,
                format!("'{what}' cannot combine {} and {}", show(x), show(y)),
            ),
        }
    }

    fn binary(&mut self, op: &'static str, left: &Expr, right: &Expr, p: usize) -> Result<Node> {
        let l = self.node(left)?;
        let r = self.node(right)?;
        let bool_ty = Some(ColumnType::Bool);
        match op {
            "&&" | "||" => {
                if l.ty != bool_ty || r.ty != bool_ty {
                    return err(
                        p,
                        format!(
                            "'{op}' needs booleans, not {} and {}",
                            show(l.ty),
                            show(r.ty)
                        ),
                    );
                }
                let kind = if op == "&&" {
                    Kind::And(Box::new(l), Box::new(r))
                } else {
                    Kind::Or(Box::new(l), Box::new(r))
                };
                Ok(Node { kind, ty: bool_ty })
            }
            "==" | "!=" | "<" | "<=" | ">" | ">=" => {
                let (l, r) = self.unify(l, r, p, op)?;
                if matches!(op, "<" | "<=" | ">" | ">=") && l.ty == bool_ty {
                    return err(p, format!("'{op}' does not order booleans"));
                }
                Ok(Node {
                    kind: Kind::Cmp(op, Box::new(l), Box::new(r)),
                    ty: bool_ty,
                })
            }
            "+" if l.ty == Some(ColumnType::String) || r.ty == Some(ColumnType::String) => {
                Ok(Node {
                    kind: Kind::Concat(Box::new(l), Box::new(r)),
                    ty: Some(ColumnType::String),
                })
            }
            "+" | "-" if is_instant(&l) || is_instant(&r) => instant_arith(op, l, r, p),
            _ => {
                let numeric = |t: Option<ColumnType>| t.is_none_or(ColumnType::is_numeric);
                if !numeric(l.ty) || !numeric(r.ty) {
                    return err(
                        p,
                        format!(
                            "'{op}' needs numbers, not {} and {}",
                            show(l.ty),
                            show(r.ty)
                        ),
                    );
                }
                let (mut l, mut r) = self.unify(l, r, p, op)?;
                if op == "/" {
                    l = widen(l, ColumnType::F64);
                    r = widen(r, ColumnType::F64);
                }
                let ty = l.ty;
                Ok(Node {
                    kind: Kind::Arith(op, Box::new(l), Box::new(r)),
                    ty,
                })
            }
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], p: usize) -> Result<Node> {
        if let Some(node) = time::compile(self, name, args, p) {
            return node;
        }
        if let [arg] = args
            && arrays::is_array_function(name)
        {
            let arg = self.node(arg)?;
            return arrays::call(name, arg, p);
        }
        if let Some(node) = self.match_call(name, args, p)? {
            return Ok(node);
        }
        let (func, arity) = match name {
            "max" => (Func::Max, 2),
            "min" => (Func::Min, 2),
            "abs" => (Func::Abs, 1),
            "sqrt" => (Func::Sqrt, 1),
            "floor" => (Func::Floor, 1),
            "ceil" => (Func::Ceil, 1),
            "round" => (Func::Round, 1),
            "isNull" => (Func::IsNull, 1),
            _ => return err(p, format!("unknown function {name}")),
        };
        if args.len() != arity {
            return err(
                p,
                format!("{name}() takes {arity} argument(s), not {}", args.len()),
            );
        }
        let mut nodes = args
            .iter()
            .map(|a| self.node(a))
            .collect::<Result<Vec<_>>>()?;
        if func == Func::IsNull {
            return Ok(Node {
                kind: Kind::Call(func, nodes),
                ty: Some(ColumnType::Bool),
            });
        }
        if let Some(bad) = nodes.iter().find(|n| n.ty.is_some_and(|t| !t.is_numeric())) {
            return err(p, format!("{name}() needs numbers, not {}", show(bad.ty)));
        }
        let ty = match func {
            Func::Max | Func::Min => {
                let b = nodes.pop().ok_or(Error::Invalid("arity".into()))?;
                let a = nodes.pop().ok_or(Error::Invalid("arity".into()))?;
                let (a, b) = self.unify(a, b, p, name)?;
                let ty = a.ty;
                nodes = vec![a, b];
                ty
            }
            Func::Abs => nodes[0].ty.or(Some(ColumnType::F64)),
            Func::Round => {
                nodes = nodes
                    .into_iter()
                    .map(|n| widen(n, ColumnType::F64))
                    .collect();
                Some(ColumnType::I64)
            }
            _ => {
                nodes = nodes
                    .into_iter()
                    .map(|n| widen(n, ColumnType::F64))
                    .collect();
                Some(ColumnType::F64)
            }
        };
        Ok(Node {
            kind: Kind::Call(func, nodes),
            ty,
        })
    }
}

fn is_instant(node: &Node) -> bool {
    node.ty == Some(ColumnType::Timestamp)
}

/// `instant ± nanos` (a long, an int, a duration literal) is an instant; `instant − instant` is
/// the long of nanoseconds between them. They are `DateTimeUtils`' `plus` and `minus`, so a
/// result beyond the range of an instant (or of a long) is null, as those functions give.
fn instant_arith(op: &'static str, l: Node, r: Node, p: usize) -> Result<Node> {
    let nanos = |n: Node| match n.ty {
        None => Some(null_of(ColumnType::I64)),
        Some(ColumnType::I32 | ColumnType::I64) => Some(widen(n, ColumnType::I64)),
        _ => None,
    };
    let (lt, rt) = (l.ty, r.ty);
    let call = |func: time::TimeFn, a: Node, b: Node, ty: ColumnType| Node {
        kind: Kind::Time(func, vec![a, b], None),
        ty: Some(ty),
    };
    let wrong = || {
        err(
            p,
            format!(
                "'{op}' cannot combine {} and {} (an instant takes or gives a long of nanoseconds)",
                show(lt),
                show(rt)
            ),
        )
    };
    let plus_or_minus = if op == "+" {
        time::TimeFn::Plus
    } else {
        time::TimeFn::Minus
    };
    Ok(match (is_instant(&l), is_instant(&r)) {
        (true, true) if op == "-" => call(time::TimeFn::Diff(0), l, r, ColumnType::I64),
        (true, false) => match nanos(r) {
            Some(r) => call(plus_or_minus, l, r, ColumnType::Timestamp),
            None => return wrong(),
        },
        (false, true) if op == "+" => match nanos(l) {
            Some(l) => call(time::TimeFn::Plus, r, l, ColumnType::Timestamp),
            None => return wrong(),
        },
        _ => return wrong(),
    })
}

fn a_pos(args: &[Expr]) -> usize {
    args.first().map_or(0, Expr::position)
}

pub(crate) fn show(ty: Option<ColumnType>) -> String {
    ty.map_or_else(|| "null".into(), |t| t.to_string())
}

/// Compiles `text` against `schema`, with `variables` bound.
pub fn compile(text: &str, schema: &Schema, variables: &Variables) -> Result<Formula> {
    compile_as(text, schema, variables, false)
}

/// Compiles a `where` filter: a bare expression in which `=` compares, as `==` does.
pub fn compile_filter(text: &str, schema: &Schema, variables: &Variables) -> Result<Formula> {
    compile_as(text, schema, variables, true)
}

fn compile_as(text: &str, schema: &Schema, variables: &Variables, filter: bool) -> Result<Formula> {
    let (name, expr) = parser::parse_as(text, filter)?;
    let mut compiler = Compiler {
        schema,
        variables,
        columns: Vec::new(),
        clock: None,
        reads_position: false,
    };
    let root = compiler.node(&expr)?;
    let Some(ty) = root.ty else {
        return err(expr.position(), "a formula cannot be only null");
    };
    let name = match (name, &expr) {
        (Some((n, _)), _) => Some(n),
        (None, Expr::Ident(n, _)) => Some(n.clone()),
        (None, _) => None,
    };
    Ok(Formula {
        name,
        text: text.to_owned(),
        ty,
        root,
        columns: compiler.columns,
        clock: compiler.clock,
        reads_position: compiler.reads_position,
    })
}
