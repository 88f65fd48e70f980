//! The random schema and statement generator shared by the property tests
//! (`crates/quarry-core/tests/properties.rs`) and the real-database oracles
//! (`tests/tests/security/`), included by both with `#[path]`.
//!
//! Statements are typed the way a user's are: integer, text and boolean
//! expressions ([`I`], [`T`], [`P`]) over columns of those types, so that
//! every statement is valid for PostgreSQL as well as SQLite (PostgreSQL
//! refuses `text + bigint`; SQLite would accept anything). They are built
//! through the public typed API only. The shapes are the ones PostgreSQL's
//! parse analysis accepts: a grouped query selects its key and aggregates,
//! `SELECT DISTINCT` orders by its output columns, a literal stands alone
//! only as `lit()` (a typed parameter), and as a plain `value()` only where
//! its neighbour gives it a type (`col + $1`, `col = $1`, `CASE`,
//! `COALESCE`, `GREATEST`, which Quarry types itself). The strategies are
//! here; building the statements through the API is in `build.rs`.
//!
//! A [`Profile`] picks what is generated:
//! - [`HOSTILE`]: hostile names (quotes, comment markers, placeholder
//!   look-alikes, invisible characters, names around PostgreSQL's 63-byte
//!   limit) and extreme values, with INSERT/UPDATE/DELETE; for the compile
//!   oracles and the prepare oracles of both databases.
//! - [`portable`]: plain names, small values and only constructs that mean
//!   the same on both databases, for the differential oracle, which runs
//!   the statements and compares results. Left out on purpose (each is a
//!   documented difference, docs/guide/differences.md, or a value that one
//!   database refuses and the other computes):
//!   - values large enough to overflow: PostgreSQL raises `bigint out of
//!     range` where SQLite switches to floating point; likewise `length()`
//!     is only applied to short text, since PostgreSQL computes it as a
//!     32-bit `integer`;
//!   - division and remainder by zero (an error on PostgreSQL, NULL on
//!     SQLite): divisors are non-zero literals;
//!   - ordering text (`<`, `BETWEEN`, `ORDER BY`, `max`, `greatest` on
//!     text) unless PostgreSQL's collation is byte order (`C`), as SQLite's
//!     is: [`Profile::text_order`];
//!   - non-ASCII text (SQLite's `lower`/`upper` and `ilike` fold ASCII only);
//!   - `avg` (`numeric` on PostgreSQL, a double on SQLite), floats;
//!   - `FULL JOIN` on anything but equalities (PostgreSQL cannot plan it);
//!   - `LIMIT`/`OFFSET` without a total `ORDER BY` (either database may
//!     return any of the rows), and ordering without explicit `NULLS
//!     FIRST`/`LAST` (the databases' defaults differ).

#![allow(dead_code, unreachable_pub, reason = "each test target uses a part of the generator")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use quarry_core::schema::{ColumnDef, ColumnType, Table, TableDef};

#[path = "build.rs"]
mod build;

#[allow(unused_imports, reason = "each test target uses a part of the generator")]
pub use build::{Built, Scope, build, build_insert, build_select, row_values};

// ----------------------------------------------------------------- profile

/// What a generated case may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Hostile names and extreme values; otherwise plain names and small
    /// values, so that every statement runs on both databases without
    /// overflow and with the same result.
    pub hostile: bool,
    /// Whether text may be ordered (`<`, `BETWEEN`, `ORDER BY`, `max`,
    /// `greatest`): only where PostgreSQL's collation is byte order.
    pub text_order: bool,
}

/// Hostile names and values, every construct.
pub const HOSTILE: Profile = Profile { hostile: true, text_order: true };

/// The portable subset, for running on both databases and comparing.
pub const fn portable(text_order: bool) -> Profile {
    Profile { hostile: false, text_order }
}

// ------------------------------------------------------------------ names

/// A hostile-ish name: pieces from a weighted alphabet, or a long name
/// around PostgreSQL's 63-byte limit.
pub fn name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => "[a-z]{1,4}",
        2 => "[A-Z][a-z]{0,2}",
        1 => Just("\"".to_owned()),
        1 => Just("'".to_owned()),
        1 => Just("`".to_owned()),
        1 => Just("\\".to_owned()),
        1 => Just(";".to_owned()),
        1 => Just("--".to_owned()),
        1 => Just("/*".to_owned()),
        1 => Just("*/".to_owned()),
        1 => Just(" ".to_owned()),
        1 => Just("\n".to_owned()),
        1 => Just("$".to_owned()),
        1 => Just("$1".to_owned()),
        1 => Just("?".to_owned()),
        1 => Just("?1".to_owned()),
        1 => Just(":".to_owned()),
        1 => Just(":x".to_owned()),
        1 => Just("@x".to_owned()),
        1 => Just("%".to_owned()),
        1 => Just("_".to_owned()),
        1 => Just("\u{202E}".to_owned()),
        1 => Just("\u{FEFF}".to_owned()),
        1 => Just("\u{200D}".to_owned()),
        1 => Just("e\u{301}".to_owned()),
        1 => Just("\u{1F600}".to_owned()),
        1 => Just("select".to_owned()),
    ];
    prop_oneof![
        12 => vec(piece, 1..6).prop_map(|p| p.concat()),
        1 => "[a-z]{60,70}",
    ]
}

/// Make `names` distinct the way SQLite compares them (ASCII case folded),
/// and keep them clear of SQLite's reserved `sqlite_` prefix.
pub fn distinct(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, mut n) in names.into_iter().enumerate() {
        if n.to_ascii_lowercase().starts_with("sqlite_") {
            n.insert(0, 'q');
        }
        while out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            n.push_str(&i.to_string());
        }
        out.push(n);
    }
    out
}

// ----------------------------------------------------------------- schema

/// A column's type: the three portable ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Text,
    Bool,
}

impl Ty {
    pub fn column_type(self) -> ColumnType {
        match self {
            Ty::Int => ColumnType::BigInt,
            Ty::Text => ColumnType::Text,
            Ty::Bool => ColumnType::Bool,
        }
    }
}

fn ty() -> impl Strategy<Value = Ty> {
    prop_oneof![Just(Ty::Int), Just(Ty::Text), Just(Ty::Bool)]
}

/// Tables whose first three columns are an integer primary key, a text and
/// a boolean column (so that every table has a column of each type), then
/// any others; all but the key nullable.
#[derive(Clone, Debug)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub names: Vec<String>,
    pub types: Vec<Vec<Ty>>,
}

impl Schema {
    pub fn new(tables: Vec<(String, Vec<(String, Ty)>)>) -> Schema {
        let names: Vec<String> = tables.iter().map(|(n, _)| n.clone()).collect();
        let types = tables.iter().map(|(_, cols)| cols.iter().map(|(_, t)| *t).collect()).collect();
        let tables = tables
            .into_iter()
            .map(|(tname, cols)| {
                let mut b = TableDef::builder(tname);
                for (i, (c, t)) in cols.into_iter().enumerate() {
                    let def = ColumnDef::new(c, t.column_type());
                    b = b.column(if i == 0 { def.primary_key().autoincrement(false) } else { def.nullable(true) });
                }
                b.build().expect("a generated table is valid")
            })
            .collect();
        Schema { tables, names, types }
    }

    /// The two tables of the differential oracle: `t0` and `t1`, each
    /// `(id, s, f, a, b, u)`.
    pub fn portable() -> Schema {
        let cols = || {
            [("id", Ty::Int), ("s", Ty::Text), ("f", Ty::Bool), ("a", Ty::Int), ("b", Ty::Int), ("u", Ty::Text)]
                .into_iter()
                .map(|(n, t)| (n.to_owned(), t))
                .collect::<Vec<_>>()
        };
        Schema::new(vec![("t0".to_owned(), cols()), ("t1".to_owned(), cols())])
    }

    pub fn index(&self, i: usize) -> usize {
        i % self.tables.len()
    }

    pub fn table(&self, i: usize) -> &Table {
        &self.tables[self.index(i)]
    }

    /// Every table and column name.
    pub fn all_names(&self) -> Vec<String> {
        let mut out = self.names.clone();
        for t in &self.tables {
            out.extend(t.def().columns.iter().map(|c| c.name.to_string()));
        }
        out
    }

    /// The positions of table `t`'s columns of type `ty`.
    fn columns_of(&self, t: usize, ty: Ty) -> Vec<usize> {
        self.types[t].iter().enumerate().filter(|(_, c)| **c == ty).map(|(i, _)| i).collect()
    }
}

/// Whether `name` is, the way SQLite compares names (ASCII case folded),
/// one of the aliases the statement builder gives tables (`build.rs`: `o`,
/// `j"1`, `subN`, `inN`): a table named `O` beside the alias `o` makes
/// SQLite's column references ambiguous.
fn is_builder_alias(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let numbered = |prefix: &str| {
        lower.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    lower == "o" || lower == "j\"1" || numbered("sub") || numbered("in")
}

/// Two to four tables with hostile names.
pub fn schema() -> impl Strategy<Value = Schema> {
    let table = (name(), vec(name(), 3..4), vec((name(), ty()), 0..3));
    vec(table, 2..4).prop_map(|tables| {
        let tnames = distinct(
            tables.iter().map(|(n, _, _)| if is_builder_alias(n) { format!("t{n}") } else { n.clone() }).collect(),
        );
        let tables = tables
            .into_iter()
            .zip(tnames)
            .map(|((_, fixed, extra), tname)| {
                let mut types = vec![Ty::Int, Ty::Text, Ty::Bool];
                types.extend(extra.iter().map(|(_, t)| *t));
                let names = fixed.into_iter().chain(extra.into_iter().map(|(n, _)| n)).collect();
                (tname, distinct(names).into_iter().zip(types).collect())
            })
            .collect();
        Schema::new(tables)
    })
}

// ------------------------------------------------------------- expressions

/// An integer expression.
#[derive(Clone, Debug)]
pub enum I {
    /// The k-th integer column of table t in scope.
    Col(usize, usize),
    Lit(i64),
    Null,
    Add(Box<I>, Box<I>),
    Sub(Box<I>, Box<I>),
    Mul(Box<I>, Box<I>),
    /// Divided by a non-zero literal.
    Div(Box<I>, i64),
    /// Remainder by a non-zero literal.
    Rem(Box<I>, i64),
    Neg(Box<I>),
    Abs(Box<I>),
    Length(Box<T>),
    Case(Box<P>, Box<I>, Box<I>),
    Coalesce(Box<I>, Box<I>),
    NullIf(Box<I>, Box<I>),
    Greatest(Box<I>, Box<I>),
    Least(Box<I>, Box<I>),
    /// `(SELECT max(sub.k) FROM table t AS sub WHERE p)`, p seeing the outer tables.
    Scalar(usize, usize, Box<P>),
}

/// A text expression.
#[derive(Clone, Debug)]
pub enum T {
    Col(usize, usize),
    Lit(String),
    Null,
    Concat(Box<T>, Box<T>),
    Lower(Box<T>),
    Upper(Box<T>),
    Trim(Box<T>),
    Substring(Box<T>, i64, Option<i64>),
    Replace(Box<T>, String, String),
    Case(Box<P>, Box<T>, Box<T>),
    Coalesce(Box<T>, Box<T>),
    Greatest(Box<T>, Box<T>),
    FromInt(Box<I>),
    Scalar(usize, usize, Box<P>),
}

/// A predicate (a boolean expression).
#[derive(Clone, Debug)]
pub enum P {
    Col(usize, usize),
    Lit(bool),
    CmpI(u8, I, I),
    CmpT(u8, T, T),
    DistinctFrom(I, I, bool),
    IsNullI(I, bool),
    IsNullT(T, bool),
    InListI(I, Vec<i64>, bool),
    InListT(T, Vec<String>, bool),
    InExprs(I, Vec<I>),
    Between(I, I, I),
    BetweenT(T, T, T),
    Like(T, String, u8),
    InSub(I, usize, usize, bool),
    And(Vec<P>),
    Or(Vec<P>),
    Not(Box<P>),
    Exists(usize, Box<P>, bool),
}

/// A value of any type (a select item, an assigned value).
#[derive(Clone, Debug)]
pub enum V {
    I(I),
    T(T),
    P(P),
}

fn int_lit(p: Profile) -> BoxedStrategy<i64> {
    if p.hostile {
        prop_oneof![
            4 => any::<i64>(),
            2 => -3..=3_i64,
            1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(i64::from(i32::MIN)), Just(i64::from(i32::MAX) + 1)],
        ]
        .boxed()
    } else {
        (-9..=9_i64).boxed()
    }
}

fn nonzero(p: Profile) -> BoxedStrategy<i64> {
    if p.hostile {
        any::<i64>().prop_map(|v| if v == 0 { 7 } else { v }).boxed()
    } else {
        prop_oneof![-4..=-1_i64, 1..=4_i64].boxed()
    }
}

/// Text values: hostile names, or a small ASCII alphabet with the
/// characters `LIKE` treats specially.
pub fn text_lit(p: Profile) -> BoxedStrategy<String> {
    if p.hostile { name().boxed() } else { "[abA%_\\\\ ]{0,3}".boxed() }
}

fn pattern(p: Profile) -> BoxedStrategy<String> {
    if p.hostile { name().boxed() } else { "[abA%_\\\\]{0,3}".boxed() }
}

fn cmp_op(p: Profile, text: bool) -> BoxedStrategy<u8> {
    if text && !p.text_order { (0..2_u8).boxed() } else { (0..6_u8).boxed() }
}

fn text_leaf(p: Profile) -> BoxedStrategy<T> {
    prop_oneof![
        4 => (0..3_usize, 0..3_usize).prop_map(|(t, c)| T::Col(t, c)),
        2 => text_lit(p).prop_map(T::Lit),
        1 => Just(T::Null),
    ]
    .boxed()
}

fn int_leaf(p: Profile) -> BoxedStrategy<I> {
    prop_oneof![
        4 => (0..3_usize, 0..3_usize).prop_map(|(t, c)| I::Col(t, c)),
        2 => int_lit(p).prop_map(I::Lit),
        1 => Just(I::Null),
    ]
    .boxed()
}

/// A small predicate over two operands, for `CASE` conditions and subqueries.
fn small_pred(a: BoxedStrategy<I>, b: BoxedStrategy<I>) -> BoxedStrategy<P> {
    prop_oneof![
        3 => (0..6_u8, a.clone(), b).prop_map(|(op, a, b)| P::CmpI(op, a, b)),
        1 => (a, any::<bool>()).prop_map(|(a, n)| P::IsNullI(a, n)),
    ]
    .boxed()
}

/// An integer expression.
pub fn int(p: Profile) -> BoxedStrategy<I> {
    let length_arg = if p.hostile { text(p) } else { text_leaf(p) };
    let leaf = prop_oneof![
        8 => int_leaf(p),
        1 => length_arg.prop_map(|t| I::Length(Box::new(t))),
    ];
    leaf.prop_recursive(3, 24, 3, move |inner| {
        let b = |e: I| Box::new(e);
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Add(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Sub(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Mul(b(x), b(y))),
            (inner.clone(), nonzero(p)).prop_map(move |(x, d)| I::Div(b(x), d)),
            (inner.clone(), nonzero(p)).prop_map(move |(x, d)| I::Rem(b(x), d)),
            inner.clone().prop_map(move |x| I::Neg(b(x))),
            inner.clone().prop_map(move |x| I::Abs(b(x))),
            (small_pred(inner.clone(), inner.clone()), inner.clone(), inner.clone())
                .prop_map(move |(c, x, y)| I::Case(Box::new(c), b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Coalesce(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::NullIf(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Greatest(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| I::Least(b(x), b(y))),
            (0..3_usize, 0..3_usize, small_pred(int_leaf(p), inner.clone())).prop_map(|(t, c, q)| I::Scalar(
                t,
                c,
                Box::new(q)
            )),
        ]
    })
    .boxed()
}

/// A text expression.
pub fn text(p: Profile) -> BoxedStrategy<T> {
    text_leaf(p)
        .prop_recursive(3, 24, 3, move |inner| {
            let b = |e: T| Box::new(e);
            let mut arms: Vec<BoxedStrategy<T>> = vec![
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Concat(b(x), b(y))).boxed(),
                inner.clone().prop_map(move |x| T::Lower(b(x))).boxed(),
                inner.clone().prop_map(move |x| T::Upper(b(x))).boxed(),
                inner.clone().prop_map(move |x| T::Trim(b(x))).boxed(),
                (inner.clone(), 1..5_i64, proptest::option::of(0..4_i64))
                    .prop_map(move |(x, s, l)| T::Substring(b(x), s, l))
                    .boxed(),
                (inner.clone(), "[abA%]{1,2}", text_lit(p))
                    .prop_map(move |(x, from, to)| T::Replace(b(x), from, to))
                    .boxed(),
                (small_pred(int_leaf(p), int_leaf(p)), inner.clone(), inner.clone())
                    .prop_map(move |(c, x, y)| T::Case(Box::new(c), b(x), b(y)))
                    .boxed(),
                (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Coalesce(b(x), b(y))).boxed(),
                int_leaf(p).prop_map(|i| T::FromInt(Box::new(i))).boxed(),
            ];
            if p.text_order {
                arms.push((inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Greatest(b(x), b(y))).boxed());
                arms.push(
                    (0..3_usize, 0..3_usize, small_pred(int_leaf(p), int_leaf(p)))
                        .prop_map(|(t, c, q)| T::Scalar(t, c, Box::new(q)))
                        .boxed(),
                );
            }
            proptest::strategy::Union::new(arms)
        })
        .boxed()
}

/// A predicate.
pub fn pred(p: Profile) -> BoxedStrategy<P> {
    let mut leaves: Vec<(u32, BoxedStrategy<P>)> = vec![
        (2, (0..3_usize, 0..3_usize).prop_map(|(t, c)| P::Col(t, c)).boxed()),
        (1, any::<bool>().prop_map(P::Lit).boxed()),
        (5, (cmp_op(p, false), int(p), int(p)).prop_map(|(op, a, b)| P::CmpI(op, a, b)).boxed()),
        (3, (cmp_op(p, true), text(p), text(p)).prop_map(|(op, a, b)| P::CmpT(op, a, b)).boxed()),
        (1, (int(p), int(p), any::<bool>()).prop_map(|(a, b, n)| P::DistinctFrom(a, b, n)).boxed()),
        (1, (int(p), any::<bool>()).prop_map(|(a, n)| P::IsNullI(a, n)).boxed()),
        (1, (text(p), any::<bool>()).prop_map(|(a, n)| P::IsNullT(a, n)).boxed()),
        (1, (int(p), vec(int_lit(p), 0..5), any::<bool>()).prop_map(|(a, l, n)| P::InListI(a, l, n)).boxed()),
        (1, (text(p), vec(text_lit(p), 0..4), any::<bool>()).prop_map(|(a, l, n)| P::InListT(a, l, n)).boxed()),
        (1, (int(p), vec(int(p), 1..4)).prop_map(|(a, l)| P::InExprs(a, l)).boxed()),
        (1, (int(p), int(p), int(p)).prop_map(|(a, b, c)| P::Between(a, b, c)).boxed()),
        (2, (text(p), pattern(p), 0..8_u8).prop_map(|(a, s, k)| P::Like(a, s, k)).boxed()),
        (1, (int(p), 0..3_usize, 0..3_usize, any::<bool>()).prop_map(|(a, t, c, n)| P::InSub(a, t, c, n)).boxed()),
    ];
    if p.text_order {
        leaves.push((1, (text(p), text(p), text(p)).prop_map(|(a, b, c)| P::BetweenT(a, b, c)).boxed()));
    }
    proptest::strategy::Union::new_weighted(leaves)
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 1..4).prop_map(P::And),
                vec(inner.clone(), 1..4).prop_map(P::Or),
                inner.clone().prop_map(|q| P::Not(Box::new(q))),
                (0..3_usize, inner.clone(), any::<bool>()).prop_map(|(t, q, n)| P::Exists(t, Box::new(q), n)),
            ]
        })
        .boxed()
}

/// A value of any type; text only where it may be ordered if `ordered`.
pub fn value_of_any_type(p: Profile, ordered: bool) -> BoxedStrategy<V> {
    if ordered && !p.text_order {
        prop_oneof![3 => int(p).prop_map(V::I), 1 => pred(p).prop_map(V::P)].boxed()
    } else {
        prop_oneof![3 => int(p).prop_map(V::I), 2 => text(p).prop_map(V::T), 1 => pred(p).prop_map(V::P)].boxed()
    }
}

// -------------------------------------------------------------- statements

/// An aggregate.
#[derive(Clone, Debug)]
pub enum Agg {
    CountStar,
    Count(V),
    CountDistinct(I),
    Sum(I),
    Max(I),
    Min(I),
    MaxT(T),
    MinT(T),
}

fn agg(p: Profile) -> BoxedStrategy<Agg> {
    let mut arms: Vec<BoxedStrategy<Agg>> = vec![
        Just(Agg::CountStar).boxed(),
        value_of_any_type(p, false).prop_map(Agg::Count).boxed(),
        int(p).prop_map(Agg::CountDistinct).boxed(),
        int(p).prop_map(Agg::Sum).boxed(),
        int(p).prop_map(Agg::Max).boxed(),
        int(p).prop_map(Agg::Min).boxed(),
    ];
    if p.text_order {
        arms.push(text(p).prop_map(Agg::MaxT).boxed());
        arms.push(text(p).prop_map(Agg::MinT).boxed());
    }
    proptest::strategy::Union::new(arms).boxed()
}

/// An integer-valued aggregate (for `HAVING` and ordering).
fn int_agg(p: Profile) -> BoxedStrategy<Agg> {
    prop_oneof![
        Just(Agg::CountStar),
        int(p).prop_map(Agg::Sum),
        int(p).prop_map(Agg::Max),
        int(p).prop_map(Agg::CountDistinct),
    ]
    .boxed()
}

/// One `ORDER BY` term: what, descending, NULLs first.
pub type Order<X> = (X, bool, bool);

fn order<X: std::fmt::Debug + Clone + 'static>(x: BoxedStrategy<X>) -> BoxedStrategy<Order<X>> {
    (x, any::<bool>(), any::<bool>()).boxed()
}

/// A window function: which, its argument, `PARTITION BY`, and `ORDER
/// BY` terms, after which come the tables' keys (so that the order within
/// a partition is total, and so the result deterministic).
#[derive(Clone, Debug)]
pub struct Win {
    pub func: u8,
    pub arg: I,
    pub partition: Option<V>,
    pub order: Vec<Order<I>>,
}

fn window(p: Profile) -> BoxedStrategy<Win> {
    // Partitioning compares for equality only: text is fine in any collation.
    (0..9_u8, int(p), proptest::option::of(value_of_any_type(p, false)), vec(order(int(p)), 0..2))
        .prop_map(|(func, arg, partition, order)| Win { func, arg, partition, order })
        .boxed()
}

/// What a `SELECT` computes.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Values per row, labelled `c0..`, then window functions labelled
    /// `w0..`; with `DISTINCT`, the order is by the labels (PostgreSQL
    /// requires ordering by output columns).
    Plain { items: Vec<V>, windows: Vec<Win>, distinct: bool, order: Vec<Order<V>>, by_labels: Vec<(bool, bool)> },
    /// `GROUP BY` a column (table in scope, type, k-th column of that type),
    /// selecting it and aggregates, ordered by aggregates then the key.
    Grouped { key: (usize, Ty, usize), aggs: Vec<Agg>, having: Option<(Agg, u8, i64)>, order: Vec<Order<Agg>> },
    /// Aggregates over the whole input: one row.
    Aggregate { aggs: Vec<Agg> },
}

/// `JOIN` table `table`, kind (inner, left, right, full), on a predicate or
/// an equality of integer columns (always for `FULL JOIN`).
#[derive(Clone, Debug)]
pub struct Join {
    pub table: usize,
    pub kind: u8,
    pub on: Option<P>,
    pub equi: (usize, usize),
}

#[derive(Clone, Debug)]
pub struct Select {
    pub table: usize,
    pub join: Option<Join>,
    pub shape: Shape,
    pub filter: Option<P>,
    /// A unique tiebreaker after the `ORDER BY` terms (the tables' keys),
    /// with its NULLs order (a key is NULL on the outer side of a join).
    pub tiebreak: Option<bool>,
    pub limit: Option<(i64, Option<i64>)>,
}

impl Select {
    /// Whether the rows come in one order only: ordered by a key that is
    /// unique in the result. Only then are `LIMIT`/`OFFSET` deterministic
    /// and the results comparable row by row.
    pub fn totally_ordered(&self) -> bool {
        match &self.shape {
            Shape::Plain { distinct: true, by_labels, .. } => !by_labels.is_empty(),
            Shape::Plain { distinct: false, .. } => self.tiebreak.is_some(),
            Shape::Grouped { .. } | Shape::Aggregate { .. } => true,
        }
    }
}

/// One side of a set operation: values of the given types, from a table,
/// perhaps ordered by all its columns and limited (its own `ORDER BY` and
/// `LIMIT`, parenthesised on PostgreSQL and a derived table on SQLite).
#[derive(Clone, Debug)]
pub struct SetSide {
    pub table: usize,
    pub items: Vec<V>,
    pub filter: Option<P>,
    pub order_limit: Option<(Vec<(bool, bool)>, i64)>,
}

/// A statement.
#[derive(Clone, Debug)]
pub enum S {
    Select(Select),
    SetOp {
        op: u8,
        left: SetSide,
        right: SetSide,
    },
    /// One row; `cells` give each column's value by its type (the key is
    /// `id`, which the differential oracle sets to a fresh one).
    Insert {
        table: usize,
        id: i64,
        cells: Vec<Cell>,
        returning: bool,
    },
    /// `SET` a non-key column (the k-th after the key) to a value.
    Update {
        table: usize,
        column: usize,
        value: V,
        filter: Option<P>,
        returning: bool,
    },
    Delete {
        table: usize,
        filter: Option<P>,
        returning: bool,
    },
    /// `INSERT ... ON CONFLICT (key) DO NOTHING`, or `DO UPDATE SET` a
    /// non-key column to the proposed row's value (`excluded`) or to a value
    /// over the existing row, perhaps `WHERE` a condition on it. The key
    /// is kept (1..=10), so that it may conflict with the data's.
    Upsert {
        table: usize,
        id: i64,
        cells: Vec<Cell>,
        action: Option<(usize, Option<V>, Option<P>)>,
        returning: bool,
    },
    /// `UPDATE t SET ... FROM other AS o WHERE t.key = o.key AND ...`: the
    /// value may use both tables; joined on the key, each row is updated
    /// from one row only.
    UpdateFrom {
        table: usize,
        other: usize,
        column: usize,
        value: V,
        filter: Option<P>,
        returning: bool,
    },
    /// `DELETE FROM t USING other AS o WHERE ...` (`EXISTS` on SQLite).
    DeleteUsing {
        table: usize,
        other: usize,
        filter: Option<P>,
        returning: bool,
    },
}

/// A literal for a column of any type: the one of its type is used.
#[derive(Clone, Debug)]
pub struct Cell {
    pub int: i64,
    pub text: String,
    pub boolean: bool,
    pub null: bool,
}

pub fn cell(p: Profile) -> BoxedStrategy<Cell> {
    (int_lit(p), text_lit(p), any::<bool>(), proptest::bool::weighted(0.2))
        .prop_map(|(int, text, boolean, null)| Cell { int, text, boolean, null })
        .boxed()
}

fn select_statement(p: Profile) -> BoxedStrategy<Select> {
    let plain = (
        vec(value_of_any_type(p, false), 1..4),
        vec(window(p), 0..2),
        any::<bool>(),
        vec(order(value_of_any_type(p, true)), 0..3),
        // One direction per output column, so that the order is total.
        vec((any::<bool>(), any::<bool>()), 5..6),
    )
        .prop_map(move |(items, windows, distinct, order, mut by_labels)| {
            if distinct {
                // One direction per output column, windows included.
                by_labels.resize(items.len() + windows.len(), (false, false));
                // Without byte-order text, a text column cannot be ordered.
                let text_item = items.iter().any(|v| matches!(v, V::T(_)));
                if text_item && !p.text_order {
                    by_labels.clear();
                }
            }
            Shape::Plain { items, windows, distinct, order, by_labels }
        });
    let key_ty = if p.text_order { ty().boxed() } else { prop_oneof![Just(Ty::Int), Just(Ty::Bool)].boxed() };
    let grouped = (
        (0..2_usize, key_ty, 0..3_usize),
        vec(agg(p), 1..4),
        proptest::option::of((int_agg(p), 0..6_u8, int_lit(p))),
        vec(order(int_agg(p)), 0..2),
    )
        .prop_map(|(key, aggs, having, order)| Shape::Grouped { key, aggs, having, order });
    let aggregate = vec(agg(p), 1..4).prop_map(|aggs| Shape::Aggregate { aggs });
    let shape = prop_oneof![6 => plain, 2 => grouped, 1 => aggregate];
    let join = (0..3_usize, 0..4_u8, proptest::option::of(pred(p)), (0..3_usize, 0..3_usize))
        .prop_map(|(table, kind, on, equi)| Join { table, kind, on, equi });
    (
        0..3_usize,
        proptest::option::of(join),
        shape,
        proptest::option::of(pred(p)),
        proptest::option::of(any::<bool>()),
        proptest::option::of((0..6_i64, proptest::option::of(0..4_i64))),
    )
        .prop_map(move |(table, join, shape, filter, tiebreak, limit)| {
            let mut s = Select { table, join, shape, filter, tiebreak, limit };
            if !p.hostile {
                // The portable profile always breaks ties, and limits only
                // what has one order.
                if s.tiebreak.is_none() {
                    s.tiebreak = Some(false);
                }
                if !s.totally_ordered() {
                    s.limit = None;
                }
            }
            s
        })
        .boxed()
}

fn set_operation(p: Profile) -> BoxedStrategy<S> {
    vec(prop_oneof![Just(Ty::Int), Just(Ty::Text), Just(Ty::Bool)], 1..3)
        .prop_flat_map(move |tys| {
            let side = move |tys: Vec<Ty>| {
                let items: Vec<BoxedStrategy<V>> = tys
                    .iter()
                    .map(|t| match t {
                        Ty::Int => int(p).prop_map(V::I).boxed(),
                        Ty::Text => text(p).prop_map(V::T).boxed(),
                        Ty::Bool => pred(p).prop_map(V::P).boxed(),
                    })
                    .collect();
                // Ordered by every column, the rows a LIMIT keeps are one
                // multiset; text only where it may be ordered.
                let orderable = p.text_order || !tys.contains(&Ty::Text);
                let order_limit = (vec((any::<bool>(), any::<bool>()), tys.len()), 0..4_i64);
                let order_limit =
                    if orderable { proptest::option::of(order_limit).boxed() } else { Just(None).boxed() };
                (0..3_usize, items, proptest::option::of(pred(p)), order_limit)
                    .prop_map(|(table, items, filter, order_limit)| SetSide { table, items, filter, order_limit })
            };
            (0..4_u8, side(tys.clone()), side(tys))
        })
        .prop_map(|(op, left, right)| S::SetOp { op, left, right })
        .boxed()
}

/// A statement: mostly queries, and with `dml`, INSERT/UPDATE/DELETE.
pub fn statement(p: Profile, dml: bool) -> BoxedStrategy<S> {
    let queries = prop_oneof![6 => select_statement(p).prop_map(S::Select), 2 => set_operation(p)];
    if !dml {
        return queries.boxed();
    }
    prop_oneof![
        8 => queries,
        1 => (0..3_usize, int_lit(p), vec(cell(p), 6..7), any::<bool>())
            .prop_map(|(table, id, cells, returning)| S::Insert { table, id, cells, returning }),
        1 => (0..3_usize, 0..5_usize, value_of_any_type(p, false), proptest::option::of(pred(p)), any::<bool>())
            .prop_map(|(table, column, value, filter, returning)| S::Update { table, column, value, filter, returning }),
        1 => (0..3_usize, proptest::option::of(pred(p)), any::<bool>())
            .prop_map(|(table, filter, returning)| S::Delete { table, filter, returning }),
        1 => (
            0..3_usize,
            1..=10_i64,
            vec(cell(p), 6..7),
            proptest::option::of((0..5_usize, proptest::option::of(value_of_any_type(p, false)), proptest::option::of(pred(p)))),
            any::<bool>(),
        )
            .prop_map(|(table, id, cells, action, returning)| S::Upsert { table, id, cells, action, returning }),
        1 => (0..3_usize, 0..3_usize, 0..5_usize, value_of_any_type(p, false), proptest::option::of(pred(p)), any::<bool>())
            .prop_map(|(table, other, column, value, filter, returning)| S::UpdateFrom { table, other, column, value, filter, returning }),
        1 => (0..3_usize, 0..3_usize, proptest::option::of(pred(p)), any::<bool>())
            .prop_map(|(table, other, filter, returning)| S::DeleteUsing { table, other, filter, returning }),
    ]
    .boxed()
}

/// A hostile schema and a few statements over it.
pub fn schema_and_statements() -> impl Strategy<Value = (Schema, Vec<S>)> {
    (schema(), vec(statement(HOSTILE, true), 1..4))
}

/// The test configuration: `PROPTEST_CASES` cases (else `default_cases`),
/// failures persisted under `proptest-regressions/` beside `source_file`
/// (the caller's `file!()`; the `proptest!` macro sets it itself).
pub fn config(default_cases: u32, source_file: &'static str) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default_cases);
    ProptestConfig {
        cases,
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}
