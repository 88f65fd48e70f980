//! Decoding the fuzzer's bytes into identifiers, values, column types,
//! expressions and whole statements.

use std::sync::Arc;

use quarry_core::ast::{
    self, Assignment, BinaryOp, ColumnRef, ConflictAction, ConflictTarget, Cte, DateField, Distinct, FrameBound,
    FrameUnits, Func, FunctionCall, InsertSource, IntervalUnit, Join, JoinKind, LockClause, LockStrength, LockWait,
    LogicalOp, NullsOrder, OnConflict, OrderByExpr, Query, SelectItem, SetExpr, SetOperator, SortDirection, Statement,
    TableName, TableRef, TableWithJoins, TemporalKind, UnaryOp, ValuesRows, WindowFrame, WindowSpec, With,
};
use quarry_core::schema::ColumnType;
use quarry_core::{Ident, Value};

/// Pieces that make identifiers and text hostile.
const SNIPPETS: [&str; 32] = [
    "\"",
    "'",
    "`",
    "\\",
    ";",
    "--",
    "/*",
    "*/",
    "$1",
    "?1",
    "?",
    ":x",
    "::",
    "$$",
    "$a$",
    "\0",
    "\u{202E}",
    "\u{FEFF}",
    "\u{e9}",
    "e\u{301}",
    "select",
    "\n",
    " ",
    "%",
    "_",
    "[",
    "]",
    "E'",
    "X'",
    "@x",
    "\u{1F600}",
    "a",
];

/// A static identifier and its renamed twin (the name and the suffix).
macro_rules! twin {
    ($name:literal) => {
        ($name, concat!($name, "\u{E000}"))
    };
}

/// Identifiers known at compile time (the `Cow::Borrowed` path), each with
/// its renamed twin for the quoting check.
const STATIC_IDENTS: [(&str, &str); 6] = [
    twin!("users"),
    twin!("a\"b"),
    twin!("x; DROP TABLE t; --"),
    twin!("select"),
    twin!(""),
    twin!("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"),
];

/// Quoted texts offered to declared tables' columns (`Column::prequoted`):
/// right for some choices of [`STATIC_IDENTS`], wrong for the others, so
/// that the one-copy path and the part-by-part path must agree.
const PREQUOTED: [&str; 6] = [
    r#""users"."users""#,
    r#""users"."select""#,
    r#""select"."users"."users""#,
    r#""users"."users"x"#,
    r#""a"b"."users""#,
    "",
];

/// Custom column types: the accepted alphabet and hostile ones.
const CUSTOM_TYPES: [&str; 6] = ["NUMERIC(10, 2)", "TEXT; DROP TABLE t", "INT -- x", "a\"b", "", "CITEXT"];

/// The fuzzer's bytes, read as a sequence of choices; exhausted input reads
/// as zeros, so every decode terminates.
#[derive(Debug)]
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
    /// Appended to every identifier made at run time (the quoting check
    /// builds the same tree twice, the second time with a suffix).
    suffix: &'static str,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8], suffix: &'static str) -> Self {
        Input { data, pos: 0, suffix }
    }

    pub fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn choose(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    pub fn u64(&mut self) -> u64 {
        let mut v = 0_u64;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.byte());
        }
        v
    }

    /// A run of raw bytes, up to 255 long.
    pub fn bytes(&mut self) -> Vec<u8> {
        let len = usize::from(self.byte());
        let start = self.pos.min(self.data.len());
        let end = (start + len).min(self.data.len());
        self.pos = start + len;
        self.data[start..end].to_vec()
    }

    /// A string: raw bytes (lossy UTF-8), hostile snippets, or a long run.
    pub fn string(&mut self) -> String {
        match self.choose(8) {
            0..=3 => String::from_utf8_lossy(&self.bytes()).into_owned(),
            4 => {
                let c = char::from(b'a' + self.byte() % 26);
                let n = 58 + usize::from(self.byte() % 12);
                std::iter::repeat_n(c, n).collect()
            }
            _ => {
                let n = 1 + self.choose(4);
                (0..n).map(|_| SNIPPETS[self.choose(SNIPPETS.len())]).collect()
            }
        }
    }

    /// An identifier, renamed by the suffix.
    pub fn ident(&mut self) -> Ident {
        if self.choose(6) == 0 {
            return Ident::new_static(self.static_name());
        }
        let mut s = self.string();
        s.push_str(self.suffix);
        Ident::from(s)
    }

    fn idents(&mut self, max: usize) -> Vec<Ident> {
        let n = self.choose(max + 1);
        (0..n).map(|_| self.ident()).collect()
    }

    pub fn value(&mut self, depth: u32) -> Value {
        match self.choose(13) {
            0 => Value::Null,
            1 => Value::Bool(self.bool()),
            2 => Value::I16(self.u64() as i16),
            3 => Value::I32(self.u64() as i32),
            4 | 5 => Value::I64(self.u64() as i64),
            6 => Value::F64(f64::from_bits(self.u64())),
            7 => Value::F32(f32::from_bits(self.u64() as u32)),
            8 => Value::from(self.bytes()),
            9 if depth > 0 => {
                let n = self.choose(4);
                Value::from((0..n).map(|_| self.value(depth - 1)).collect::<Vec<_>>())
            }
            _ => Value::from(self.string()),
        }
    }

    pub fn column_type(&mut self, depth: u32) -> ColumnType {
        match self.choose(24) {
            0 => ColumnType::Bool,
            1 => ColumnType::SmallInt,
            2 => ColumnType::Integer,
            3 => ColumnType::BigInt,
            4 => ColumnType::Real,
            5 => ColumnType::Double,
            6 => ColumnType::Numeric(None),
            7 => ColumnType::Numeric(Some((u16::from(self.byte()), u16::from(self.byte())))),
            8 => ColumnType::Varchar(None),
            9 => ColumnType::Varchar(Some(u32::from(self.byte()))),
            10 => ColumnType::Char(u32::from(self.byte())),
            11 => ColumnType::Bytes,
            12 => ColumnType::Date,
            13 => ColumnType::Time,
            14 => ColumnType::Timestamp,
            15 => ColumnType::TimestampTz,
            16 => ColumnType::Interval,
            17 => ColumnType::Uuid,
            18 => ColumnType::Json,
            19 => ColumnType::Jsonb,
            20 if depth > 0 => ColumnType::Array(Box::new(self.column_type(depth - 1))),
            21 => ColumnType::Custom(CUSTOM_TYPES[self.choose(CUSTOM_TYPES.len())]),
            _ => ColumnType::Text,
        }
    }

    fn table_name(&mut self) -> TableName {
        if self.choose(4) == 0 {
            TableName::qualified(self.ident(), self.ident())
        } else {
            TableName::new(self.ident())
        }
    }

    fn list(&mut self, max: usize, depth: u32) -> Vec<ast::Expr> {
        let n = self.choose(max + 1);
        (0..n).map(|_| self.expr(depth)).collect()
    }

    fn boxed(&mut self, depth: u32) -> Box<ast::Expr> {
        Box::new(self.expr(depth))
    }

    /// An expression of every node kind but raw SQL (whose text is the
    /// programmer's, not quoted by Quarry; see [`crate::target_text_binds`]).
    pub fn expr(&mut self, depth: u32) -> ast::Expr {
        use ast::Expr as E;
        if depth == 0 || self.done() {
            return match self.choose(4) {
                0 => E::Value(self.value(1)),
                1 => self.static_column(),
                _ => E::Column(self.column_ref()),
            };
        }
        let d = depth - 1;
        match self.choose(24) {
            0 => E::Column(self.column_ref()),
            1 => E::Wildcard(if self.bool() { Some(self.table_name()) } else { None }),
            2 => E::Value(self.value(2)),
            3 => E::TypedValue { value: self.value(2), ty: self.column_type(2) },
            4 => E::Default,
            5 => E::Excluded(self.ident()),
            6 => {
                let op = if self.bool() { UnaryOp::Not } else { UnaryOp::Neg };
                E::Unary { op, expr: self.boxed(d) }
            }
            7 => {
                const OPS: [BinaryOp; 14] = [
                    BinaryOp::Eq,
                    BinaryOp::NotEq,
                    BinaryOp::Lt,
                    BinaryOp::LtEq,
                    BinaryOp::Gt,
                    BinaryOp::GtEq,
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Div,
                    BinaryOp::Mod,
                    BinaryOp::Concat,
                    BinaryOp::And,
                    BinaryOp::Or,
                ];
                let op = OPS[self.choose(OPS.len())];
                E::Binary { op, operands: Box::new([self.expr(d), self.expr(d)]) }
            }
            8 => E::Logical { op: if self.bool() { LogicalOp::And } else { LogicalOp::Or }, terms: self.list(4, d) },
            9 => E::IsNull { expr: self.boxed(d), negated: self.bool() },
            10 => E::IsDistinctFrom { left: self.boxed(d), right: self.boxed(d), negated: self.bool() },
            11 => E::InList { expr: self.boxed(d), list: self.list(4, d), negated: self.bool() },
            12 => {
                let n = self.choose(5);
                let values: Arc<[Value]> = (0..n).map(|_| self.value(1)).collect();
                E::InValues { expr: self.boxed(d), values, negated: self.bool() }
            }
            13 => E::InSubquery { expr: self.boxed(d), query: Box::new(self.query(d)), negated: self.bool() },
            14 => E::Between { expr: self.boxed(d), low: self.boxed(d), high: self.boxed(d), negated: self.bool() },
            15 => {
                let escape = match self.choose(4) {
                    0 => None,
                    1 => Some('\\'),
                    2 => Some(char::from(self.byte())),
                    _ => self.string().chars().next(),
                };
                E::Like {
                    operands: Box::new([self.expr(d), self.expr(d)]),
                    escape,
                    case_insensitive: self.bool(),
                    negated: self.bool(),
                }
            }
            16 => {
                let operand = if self.bool() { Some(self.boxed(d)) } else { None };
                let n = 1 + self.choose(3);
                let whens = (0..n).map(|_| (self.expr(d), self.expr(d))).collect();
                let else_result = if self.bool() { Some(self.boxed(d)) } else { None };
                E::Case { operand, whens, else_result }
            }
            17 => E::Cast { expr: self.boxed(d), ty: self.column_type(2) },
            18 | 19 => E::Function(Box::new(self.function(d))),
            20 => E::Exists { query: Box::new(self.query(d)), negated: self.bool() },
            21 => E::Subquery(Box::new(self.query(d))),
            22 => E::Tuple(self.list(4, d)),
            _ => E::Column(self.column_ref()),
        }
    }

    /// A static identifier, renamed by the suffix.
    fn static_name(&mut self) -> &'static str {
        let (name, twin) = STATIC_IDENTS[self.choose(STATIC_IDENTS.len())];
        if self.suffix.is_empty() { name } else { twin }
    }

    /// A column of a declared table, offered a quoted text that may or may
    /// not be its own.
    fn static_column(&mut self) -> ast::Expr {
        let schema = if self.choose(4) == 0 { Some(self.static_name()) } else { None };
        let (table, name) = (self.static_name(), self.static_name());
        let quoted = PREQUOTED[self.choose(PREQUOTED.len())];
        quarry_core::Column::<i64>::new(schema, table, name).prequoted(quoted).expr().into_node()
    }

    fn column_ref(&mut self) -> ColumnRef {
        let table = if self.bool() { Some(self.table_name()) } else { None };
        ColumnRef { table, name: self.ident() }
    }

    fn function(&mut self, d: u32) -> FunctionCall {
        const FIELDS: [DateField; 9] = [
            DateField::Year,
            DateField::Month,
            DateField::Day,
            DateField::Hour,
            DateField::Minute,
            DateField::Second,
            DateField::DayOfWeek,
            DateField::DayOfYear,
            DateField::Epoch,
        ];
        const UNITS: [IntervalUnit; 6] = [
            IntervalUnit::Seconds,
            IntervalUnit::Minutes,
            IntervalUnit::Hours,
            IntervalUnit::Days,
            IntervalUnit::Months,
            IntervalUnit::Years,
        ];
        const KINDS: [TemporalKind; 4] =
            [TemporalKind::Date, TemporalKind::Timestamp, TemporalKind::TimestampTz, TemporalKind::Time];
        let func = match self.choose(34) {
            0 => Func::Count,
            1 => Func::Sum,
            2 => Func::Avg,
            3 => Func::Min,
            4 => Func::Max,
            5 => Func::RowNumber,
            6 => Func::Rank,
            7 => Func::DenseRank,
            8 => Func::PercentRank,
            9 => Func::CumeDist,
            10 => Func::Ntile,
            11 => Func::Lag,
            12 => Func::Lead,
            13 => Func::FirstValue,
            14 => Func::LastValue,
            15 => Func::NthValue,
            16 => Func::Coalesce,
            17 => Func::NullIf,
            18 => Func::Greatest,
            19 => Func::Least,
            20 => Func::Lower,
            21 => Func::Upper,
            22 => Func::Length,
            23 => Func::Round,
            24 => Func::Abs,
            25 => Func::Substring,
            26 => Func::Trim,
            27 => Func::Replace,
            28 => Func::Now,
            29 => Func::CurrentDate,
            30 => {
                let field = FIELDS[self.choose(FIELDS.len())];
                let on = if self.bool() { Some(KINDS[self.choose(4)]) } else { None };
                Func::Extract { field, on }
            }
            31 => Func::DateAdd { unit: UNITS[self.choose(UNITS.len())], on: KINDS[self.choose(4)] },
            // A function's name is the programmer's (written unquoted when
            // plain, refused otherwise): not renamed by the suffix.
            _ => Func::Named(Ident::from(self.string())),
        };
        let mut call = FunctionCall::new(func, self.list(4, d));
        call.distinct = self.choose(4) == 0;
        if self.choose(4) == 0 {
            call.filter = Some(self.expr(d));
        }
        if self.choose(4) == 0 {
            call.over = Some(self.window(d));
        }
        call
    }

    fn window(&mut self, d: u32) -> WindowSpec {
        let bound = |s: &mut Self| match s.choose(5) {
            0 => FrameBound::UnboundedPreceding,
            1 => FrameBound::Preceding(s.boxed(d)),
            2 => FrameBound::CurrentRow,
            3 => FrameBound::Following(s.boxed(d)),
            _ => FrameBound::UnboundedFollowing,
        };
        let frame = if self.bool() {
            let units = [FrameUnits::Rows, FrameUnits::Range, FrameUnits::Groups][self.choose(3)];
            let start = bound(self);
            let end = if self.bool() { Some(bound(self)) } else { None };
            Some(WindowFrame { units, start, end })
        } else {
            None
        };
        WindowSpec { partition_by: self.list(2, d), order_by: self.order_by(2, d), frame }
    }

    fn order_by(&mut self, max: usize, d: u32) -> Vec<OrderByExpr> {
        let n = self.choose(max + 1);
        (0..n)
            .map(|_| OrderByExpr {
                expr: self.expr(d),
                direction: [None, Some(SortDirection::Asc), Some(SortDirection::Desc)][self.choose(3)],
                nulls: [None, Some(NullsOrder::First), Some(NullsOrder::Last)][self.choose(3)],
            })
            .collect()
    }

    fn select_items(&mut self, max: usize, d: u32) -> Vec<SelectItem> {
        let n = self.choose(max + 1);
        (0..n)
            .map(|_| {
                let e = self.expr(d);
                if self.bool() { SelectItem::aliased(e, self.ident()) } else { SelectItem::new(e) }
            })
            .collect()
    }

    fn table_ref(&mut self, d: u32) -> TableRef {
        if d > 0 && self.choose(4) == 0 {
            TableRef::Derived {
                query: Box::new(self.query(d - 1)),
                alias: self.ident(),
                columns: self.idents(2),
                lateral: self.bool(),
            }
        } else {
            let name = self.table_name();
            let alias = if self.bool() { Some(self.ident()) } else { None };
            TableRef::Table { name, alias }
        }
    }

    fn from(&mut self, max: usize, d: u32) -> Vec<TableWithJoins> {
        let n = self.choose(max + 1);
        (0..n)
            .map(|_| {
                let relation = self.table_ref(d);
                let joins = (0..self.choose(3))
                    .map(|_| {
                        let kind = [JoinKind::Inner, JoinKind::Left, JoinKind::Right, JoinKind::Full, JoinKind::Cross]
                            [self.choose(5)];
                        let relation = self.table_ref(d);
                        let on = if self.choose(4) == 0 { None } else { Some(self.expr(d)) };
                        Join { kind, relation, on }
                    })
                    .collect();
                TableWithJoins { relation, joins }
            })
            .collect()
    }

    fn select(&mut self, d: u32) -> ast::Select {
        let distinct = match self.choose(5) {
            0 => Some(Distinct::All),
            1 => Some(Distinct::On(self.list(2, d))),
            _ => None,
        };
        ast::Select {
            distinct,
            projection: self.select_items(3, d),
            from: self.from(2, d),
            selection: if self.bool() { Some(self.expr(d)) } else { None },
            group_by: if self.choose(4) == 0 { self.list(2, d) } else { Vec::new() },
            having: if self.choose(4) == 0 { Some(self.expr(d)) } else { None },
        }
    }

    fn set_expr(&mut self, d: u32) -> SetExpr {
        match self.choose(6) {
            0 if d > 0 => SetExpr::SetOperation {
                op: [SetOperator::Union, SetOperator::Intersect, SetOperator::Except][self.choose(3)],
                all: self.bool(),
                operands: Box::new([self.set_expr(d - 1), self.set_expr(d - 1)]),
            },
            1 if d > 0 => SetExpr::Query(Box::new(self.query(d - 1))),
            2 => {
                let width = self.choose(3);
                let rows = (0..1 + self.choose(2)).map(|_| (0..width).map(|_| self.expr(d)).collect()).collect();
                SetExpr::Values(rows)
            }
            _ => SetExpr::Select(Box::new(self.select(d))),
        }
    }

    fn with(&mut self, d: u32) -> Option<With> {
        if d == 0 || self.choose(5) != 0 {
            return None;
        }
        let ctes = (0..1 + self.choose(2))
            .map(|_| Cte {
                name: self.ident(),
                columns: self.idents(2),
                materialized: [None, Some(true), Some(false)][self.choose(3)],
                query: Box::new(self.query(d - 1)),
            })
            .collect();
        Some(With { recursive: self.bool(), ctes })
    }

    pub fn query(&mut self, d: u32) -> Query {
        let mut q = Query::new(self.set_expr(d));
        q.with = self.with(d);
        q.order_by = self.order_by(2, d);
        if self.choose(3) == 0 {
            q.limit = Some(self.expr(d));
        }
        if self.choose(4) == 0 {
            q.offset = Some(self.expr(d));
        }
        if self.choose(6) == 0 {
            let strength =
                [LockStrength::Update, LockStrength::NoKeyUpdate, LockStrength::Share, LockStrength::KeyShare]
                    [self.choose(4)];
            let of = self.idents(2);
            q.locking.push(LockClause {
                strength,
                of,
                wait: [LockWait::Wait, LockWait::NoWait, LockWait::SkipLocked][self.choose(3)],
            });
        }
        q
    }

    fn assignments(&mut self, d: u32) -> Vec<Assignment> {
        (0..1 + self.choose(3)).map(|_| Assignment { column: self.ident(), value: self.expr(d) }).collect()
    }

    pub fn statement(&mut self, d: u32) -> Statement {
        match self.choose(6) {
            0 => {
                let columns = self.idents(3);
                let source = match self.choose(3) {
                    0 => InsertSource::DefaultValues,
                    1 => InsertSource::Query(Box::new(self.query(d))),
                    _ => {
                        let mut rows = ValuesRows::new(columns.len());
                        for _ in 0..1 + self.choose(3) {
                            let row: Vec<ast::Expr> = columns.iter().map(|_| self.expr(d)).collect();
                            rows.push_row(row).expect("each row is as wide as the columns");
                        }
                        InsertSource::Values(rows)
                    }
                };
                let column_defaults = (0..self.choose(2)).map(|_| (self.ident(), self.value(1))).collect();
                let on_conflict = if self.choose(3) == 0 {
                    let target = match self.choose(3) {
                        0 => ConflictTarget::Any,
                        1 => ConflictTarget::Constraint(self.ident()),
                        _ => ConflictTarget::Columns {
                            columns: self.idents(2),
                            predicate: if self.bool() { Some(self.expr(d)) } else { None },
                        },
                    };
                    let action = if self.bool() {
                        ConflictAction::DoNothing
                    } else {
                        ConflictAction::DoUpdate {
                            assignments: self.assignments(d),
                            selection: if self.bool() { Some(self.expr(d)) } else { None },
                        }
                    };
                    Some(OnConflict { target, action })
                } else {
                    None
                };
                let mut insert = ast::Insert {
                    with: self.with(d),
                    table: self.table_name(),
                    columns,
                    source,
                    column_defaults,
                    on_conflict,
                    returning: Vec::new(),
                };
                insert.returning = self.select_items(2, d);
                Statement::Insert(insert)
            }
            1 => Statement::Update(ast::Update {
                with: self.with(d),
                table: self.table_name(),
                alias: if self.bool() { Some(self.ident()) } else { None },
                assignments: self.assignments(d),
                from: self.from(1, d),
                selection: if self.bool() { Some(self.expr(d)) } else { None },
                returning: self.select_items(2, d),
            }),
            2 => Statement::Delete(ast::Delete {
                with: self.with(d),
                table: self.table_name(),
                alias: if self.bool() { Some(self.ident()) } else { None },
                using: self.from(1, d),
                selection: if self.bool() { Some(self.expr(d)) } else { None },
                returning: self.select_items(2, d),
            }),
            _ => Statement::Query(self.query(d)),
        }
    }
}
