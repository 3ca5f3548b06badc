//! Formula syntax: a recursive-descent parser from tokens to an [`Expr`] tree.
//!
//! ```text
//! formula  := IDENT '=' expr | expr          filter := expr  (`where`: '=' is '==')
//! expr     := or ('?' expr ':' expr)?
//! or       := and ('||' and)*          and := cmp ('&&' cmp)*
//! cmp      := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)* match?
//! match    := ['icase'] ['not'] 'in' sum (',' sum)*
//! sum      := product (('+'|'-') product)*
//! product  := unary (('*'|'/'|'%') unary)*
//! unary    := ('!'|'-') unary | postfix
//! postfix  := primary ('.' IDENT '(' args ')' | '[' expr ']')*
//! primary  := number | string | 'time literal' | true | false | null | IDENT '(' args ')' | IDENT | '(' expr ')'
//! ```

use super::lexer::{Token, tokenize};
use crate::{Error, Result};

/// A parsed expression; `usize` fields are byte positions in the formula.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Ident(String, usize),
    Int(i64, usize),
    /// A literal with the `L` suffix.
    Long(i64, usize),
    Float(f64, usize),
    Str(String, usize),
    /// A time literal, between single quotes.
    Time(String, usize),
    Bool(bool, usize),
    Null(usize),
    Unary(&'static str, Box<Expr>, usize),
    Binary(&'static str, Box<Expr>, Box<Expr>, usize),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>, usize),
    Call(String, Vec<Expr>, usize),
    Method(Box<Expr>, String, Vec<Expr>, usize),
    /// `array[index]`.
    Index(Box<Expr>, Box<Expr>, usize),
    /// `target [icase] [not] in values...` (see [`super::matching`]).
    Match(Box<super::matching::MatchExpr>, usize),
}

impl Expr {
    pub fn position(&self) -> usize {
        match self {
            Expr::Ident(_, p)
            | Expr::Int(_, p)
            | Expr::Long(_, p)
            | Expr::Float(_, p)
            | Expr::Str(_, p)
            | Expr::Time(_, p)
            | Expr::Bool(_, p)
            | Expr::Null(p)
            | Expr::Unary(_, _, p)
            | Expr::Binary(_, _, _, p)
            | Expr::Ternary(_, _, _, p)
            | Expr::Call(_, _, p)
            | Expr::Method(_, _, _, p)
            | Expr::Index(_, _, p)
            | Expr::Match(_, p) => *p,
        }
    }
}

/// How deeply a formula may nest (parentheses, chained operators, unary chains). Parsing,
/// compiling and evaluating all recurse over the tree, so this bounds their stack use: a debug
/// build's 2 MiB test thread overflows between 120 and 199 levels, so 64 leaves a margin, and
/// release and wasm32 frames are smaller.
pub const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    depth: usize,
    /// A `where` filter: `=` compares, as `==` does.
    filter: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn error<T>(&self, message: String) -> Result<T> {
        Err(Error::Formula {
            position: self.position(),
            message,
        })
    }

    fn unexpected<T>(&self, wanted: &str) -> Result<T> {
        match self.peek() {
            Some(t) => self.error(format!("expected {wanted}, found {t}")),
            None => self.error(format!("expected {wanted}, found the end of the formula")),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(format!(
                "the formula nests more than {MAX_DEPTH} levels deep"
            ));
        }
        Ok(())
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Token::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<()> {
        if self.eat(op) {
            Ok(())
        } else {
            self.unexpected(&format!("'{op}'"))
        }
    }

    fn binary(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Self) -> Result<Expr>,
    ) -> Result<Expr> {
        let mut left = next(self)?;
        // Each operator deepens the (left-leaning) tree by one.
        let entered = self.depth;
        let result = loop {
            let position = self.position();
            let Some(op) = ops
                .iter()
                .find(|op| matches!(self.peek(), Some(Token::Op(o)) if o == *op))
            else {
                break Ok(left);
            };
            self.at += 1;
            let op = if *op == "=" { "==" } else { op };
            if let Err(e) = self.enter() {
                break Err(e);
            }
            let right = match next(self) {
                Ok(right) => right,
                Err(e) => break Err(e),
            };
            left = Expr::Binary(op, Box::new(left), Box::new(right), position);
        };
        self.depth = entered;
        result
    }

    fn expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let result = self.ternary();
        self.depth -= 1;
        result
    }

    fn ternary(&mut self) -> Result<Expr> {
        let condition = self.or()?;
        let position = self.position();
        if self.eat("?") {
            let then = self.expr()?;
            self.expect(":")?;
            let otherwise = self.expr()?;
            return Ok(Expr::Ternary(
                Box::new(condition),
                Box::new(then),
                Box::new(otherwise),
                position,
            ));
        }
        Ok(condition)
    }

    fn or(&mut self) -> Result<Expr> {
        self.binary(&["||"], Self::and)
    }

    fn and(&mut self) -> Result<Expr> {
        self.binary(&["&&"], Self::cmp)
    }

    fn cmp(&mut self) -> Result<Expr> {
        let ops: &[&'static str] = if self.filter {
            &["==", "=", "!=", "<=", ">=", "<", ">"]
        } else {
            &["==", "!=", "<=", ">=", "<", ">"]
        };
        let target = self.binary(ops, Self::sum)?;
        self.match_list(target)
    }

    /// `[icase] [not] in v1, v2, ...` after `target`, if there: the list takes every value up to
    /// a token that cannot continue it (`&&`, `||`, `?`, `:`, `)`, the end).
    fn match_list(&mut self, target: Expr) -> Result<Expr> {
        let word = |p: &Self, k: usize, w: &str| matches!(p.tokens.get(p.at + k), Some((_, Token::Ident(s))) if s == w);
        let icase = word(self, 0, "icase")
            && (word(self, 1, "in") || (word(self, 1, "not") && word(self, 2, "in")));
        let skip = usize::from(icase);
        let inverted = word(self, skip, "not") && word(self, skip + 1, "in");
        if !word(self, skip + usize::from(inverted), "in") {
            return Ok(target);
        }
        let position = self.position();
        self.at += skip + usize::from(inverted) + 1;
        if matches!(self.peek(), None | Some(Token::Op(_)))
            && !matches!(self.peek(), Some(Token::Op("(" | "-" | "!")))
        {
            return self.unexpected("a value after 'in'");
        }
        let mut values = vec![self.sum()?];
        while self.eat(",") {
            values.push(self.sum()?);
        }
        Ok(Expr::Match(
            Box::new(super::matching::MatchExpr {
                target,
                values,
                icase,
                inverted,
            }),
            position,
        ))
    }

    fn sum(&mut self) -> Result<Expr> {
        self.binary(&["+", "-"], Self::product)
    }

    fn product(&mut self) -> Result<Expr> {
        self.binary(&["*", "/", "%"], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr> {
        let position = self.position();
        for op in ["!", "-"] {
            if self.eat(op) {
                self.enter()?;
                let arg = self.unary();
                self.depth -= 1;
                return Ok(Expr::Unary(op, Box::new(arg?), position));
            }
        }
        self.postfix()
    }

    fn args(&mut self) -> Result<Vec<Expr>> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut expr = self.primary()?;
        loop {
            let position = self.position();
            if self.eat("[") {
                let index = self.expr()?;
                self.expect("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index), position);
                continue;
            }
            if !self.eat(".") {
                return Ok(expr);
            }
            let name = match self.peek() {
                Some(Token::Ident(name)) => name.clone(),
                _ => return self.unexpected("a method name after '.'"),
            };
            self.at += 1;
            let args = self.args()?;
            expr = Expr::Method(Box::new(expr), name, args, position);
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let position = self.position();
        let Some(token) = self.peek().cloned() else {
            return self.unexpected("a value");
        };
        self.at += 1;
        Ok(match token {
            Token::Int(v) => Expr::Int(v, position),
            Token::Long(v) => Expr::Long(v, position),
            Token::Float(v) => Expr::Float(v, position),
            Token::Str(s) => Expr::Str(s, position),
            Token::Time(s) => Expr::Time(s, position),
            Token::Ident(name) => match name.as_str() {
                "true" => Expr::Bool(true, position),
                "false" => Expr::Bool(false, position),
                "null" | "NULL" => Expr::Null(position),
                _ if matches!(self.peek(), Some(Token::Op("("))) => {
                    let args = self.args()?;
                    Expr::Call(name, args, position)
                }
                _ => Expr::Ident(name, position),
            },
            Token::Op("(") => {
                let inner = self.expr()?;
                self.expect(")")?;
                inner
            }
            Token::Op(_) => {
                self.at -= 1;
                return self.unexpected("a value");
            }
        })
    }
}

/// Parses `Name = expr` (returning the name) or a bare `expr`; a `filter` is a bare `expr` in
/// which `=` compares.
pub fn parse_as(text: &str, filter: bool) -> Result<(Option<(String, usize)>, Expr)> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.len(),
        depth: 0,
        filter,
    };
    let mut name = None;
    if let (false, Some((p, Token::Ident(n))), Some((_, Token::Op("=")))) = (
        filter,
        parser.tokens.first().cloned(),
        parser.tokens.get(1).cloned(),
    ) {
        name = Some((n, p));
        parser.at = 2;
    }
    let expr = parser.expr()?;
    if parser.at < parser.tokens.len() {
        return parser.unexpected("the end of the formula");
    }
    Ok((name, expr))
}
