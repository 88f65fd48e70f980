//! Building generated statements through the public API (part of the
//! generator, `generator.rs`).

use quarry_core::ColumnValue;
use quarry_core::expr::{Any, Labeled};
use quarry_core::prelude::*;
use quarry_core::schema::Table;

use super::{Agg, Cell, I, P, S, Schema, Select, SetSide, Shape, T, Ty, V, Win};

/// Where a literal stands: alone (written `lit()`, a typed parameter,
/// since PostgreSQL could not infer its type), or beside something that
/// gives it its type (written as a plain bound `value()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pos {
    Alone,
    Typed,
}

/// The tables an expression may refer to: each is a handle (aliased or
/// not) and the index of its table in the schema.
pub struct Scope<'a> {
    pub schema: &'a Schema,
    pub tables: Vec<(Table, usize)>,
}

impl<'a> Scope<'a> {
    pub fn new(schema: &'a Schema, tables: Vec<(Table, usize)>) -> Self {
        Scope { schema, tables }
    }

    fn column(&self, t: usize, ty: Ty, k: usize) -> Expr<Any> {
        let (table, index) = &self.tables[t % self.tables.len()];
        let of_type = self.schema.columns_of(*index, ty);
        table.columns()[of_type[k % of_type.len()]].clone()
    }

    /// A subquery's scope: its own table, aliased (so that a table may
    /// appear at two levels), then the outer tables.
    fn nested(&self, t: usize) -> Scope<'a> {
        let index = self.schema.index(t);
        let inner = self.schema.tables[index].alias(format!("sub{}", self.tables.len()));
        let mut tables = vec![(inner, index)];
        tables.extend(self.tables.iter().cloned());
        Scope { schema: self.schema, tables }
    }

    fn int_at(&self, e: &I, pos: Pos) -> Expr<i64> {
        let b = |e: &I| self.int_at(e, Pos::Typed);
        let a = |e: &I| self.int_at(e, Pos::Alone);
        match e {
            I::Col(t, k) => self.column(*t, Ty::Int, *k).assume(),
            I::Lit(v) if pos == Pos::Alone => lit(*v),
            I::Lit(v) => value(*v),
            I::Null if pos == Pos::Alone => null::<i64>().cast::<i64>(),
            I::Null => null::<i64>().assume(),
            I::Add(x, y) => a(x) + b(y),
            I::Sub(x, y) => a(x) - b(y),
            I::Mul(x, y) => a(x) * b(y),
            I::Div(x, d) => a(x) / *d,
            I::Rem(x, d) => a(x) % *d,
            I::Neg(x) => -a(x),
            I::Abs(x) => abs(a(x)),
            I::Length(s) => length(self.text_at(s, Pos::Alone)),
            // CASE, COALESCE, NULLIF, GREATEST and LEAST type their bare
            // values themselves (Quarry's job, checked here).
            I::Case(c, x, y) => case::<i64>().when(self.pred(c), b(x)).otherwise(b(y)),
            I::Coalesce(x, y) => coalesce(b(x), b(y)),
            I::NullIf(x, y) => nullif(b(x), b(y)),
            I::Greatest(x, y) => greatest(b(x), b(y)),
            I::Least(x, y) => least(b(x), b(y)),
            I::Scalar(t, k, q) => {
                let inner = self.nested(*t);
                let table = inner.tables[0].0.clone();
                let m = max(inner.column(0, Ty::Int, *k).assume::<i64>());
                select(m.expr().untyped().label("m")).from(&table).filter(inner.pred(q)).scalar::<i64>()
            }
        }
    }

    pub fn int(&self, e: &I) -> Expr<i64> {
        self.int_at(e, Pos::Alone)
    }

    fn text_at(&self, e: &T, pos: Pos) -> Expr<String> {
        let b = |e: &T| self.text_at(e, Pos::Typed);
        let a = |e: &T| self.text_at(e, Pos::Alone);
        match e {
            T::Col(t, k) => self.column(*t, Ty::Text, *k).assume(),
            T::Lit(v) if pos == Pos::Alone => lit(v.clone()),
            T::Lit(v) => value(v.clone()),
            T::Null if pos == Pos::Alone => null::<String>().cast::<String>(),
            T::Null => null::<String>().assume(),
            T::Concat(x, y) => a(x).concat(b(y)),
            T::Lower(x) => lower(a(x)),
            T::Upper(x) => upper(a(x)),
            T::Trim(x) => trim(a(x)),
            T::Substring(x, start, len) => substring(a(x), *start, *len),
            T::Replace(x, from, to) => a(x).replace(from.clone(), to.clone()),
            T::Case(c, x, y) => case::<String>().when(self.pred(c), b(x)).otherwise(b(y)),
            T::Coalesce(x, y) => coalesce(b(x), b(y)),
            T::Greatest(x, y) => greatest(b(x), b(y)),
            T::FromInt(i) => self.int(i).cast::<String>(),
            T::Scalar(t, k, q) => {
                let inner = self.nested(*t);
                let table = inner.tables[0].0.clone();
                let m = max(inner.column(0, Ty::Text, *k).assume::<String>());
                select(m.expr().untyped().label("m")).from(&table).filter(inner.pred(q)).scalar::<String>()
            }
        }
    }

    pub fn text(&self, e: &T) -> Expr<String> {
        self.text_at(e, Pos::Alone)
    }

    pub fn pred(&self, p: &P) -> Expr<bool> {
        let typed_i = |e: &I| self.int_at(e, Pos::Typed);
        let typed_t = |e: &T| self.text_at(e, Pos::Typed);
        match p {
            P::Col(t, k) => self.column(*t, Ty::Bool, *k).assume(),
            P::Lit(v) => lit(*v),
            P::CmpI(op, x, y) => compare(*op, self.int(x), typed_i(y)),
            P::CmpT(op, x, y) => compare(*op, self.text(x), typed_t(y)),
            P::DistinctFrom(x, y, negated) => {
                if *negated {
                    self.int(x).is_not_distinct_from(typed_i(y))
                } else {
                    self.int(x).is_distinct_from(typed_i(y))
                }
            }
            P::IsNullI(x, negated) => {
                if *negated {
                    self.int(x).is_not_null()
                } else {
                    self.int(x).is_null()
                }
            }
            P::IsNullT(x, negated) => {
                if *negated {
                    self.text(x).is_not_null()
                } else {
                    self.text(x).is_null()
                }
            }
            P::InListI(x, list, negated) => {
                if *negated {
                    self.int(x).not_in(list.iter().copied())
                } else {
                    self.int(x).in_(list.iter().copied())
                }
            }
            P::InListT(x, list, negated) => {
                if *negated {
                    self.text(x).not_in(list.iter().cloned())
                } else {
                    self.text(x).in_(list.iter().cloned())
                }
            }
            P::InExprs(x, list) => self.int(x).in_exprs(list.iter().map(typed_i)),
            P::Between(x, lo, hi) => self.int(x).between(typed_i(lo), typed_i(hi)),
            P::BetweenT(x, lo, hi) => self.text(x).between(typed_t(lo), typed_t(hi)),
            P::Like(x, pattern, kind) => {
                let x = self.text(x);
                match kind % 8 {
                    0 => x.like(pattern.as_str()),
                    1 => x.not_like(pattern.as_str()),
                    2 => x.ilike(pattern.as_str()),
                    3 => x.not_ilike(pattern.as_str()),
                    4 => x.contains(pattern),
                    5 => x.starts_with(pattern),
                    6 => x.ends_with(pattern),
                    _ => x.icontains(pattern),
                }
            }
            P::InSub(x, t, k, negated) => {
                let index = self.schema.index(*t);
                let table = self.schema.tables[index].alias(format!("in{}", self.tables.len()));
                let scope = Scope { schema: self.schema, tables: vec![(table.clone(), index)] };
                let q = select(scope.column(0, Ty::Int, *k)).from(&table);
                if *negated { self.int(x).not_in_subquery(q) } else { self.int(x).in_subquery(q) }
            }
            P::And(ps) => and_(ps.iter().map(|q| self.pred(q))),
            P::Or(ps) => or_(ps.iter().map(|q| self.pred(q))),
            P::Not(q) => not_(self.pred(q)),
            P::Exists(t, q, correlated) => {
                let inner = self.nested(*t);
                let table = inner.tables[0].0.clone();
                let mut sub = select(inner.column(0, Ty::Int, 0)).from(&table).filter(inner.pred(q));
                if *correlated {
                    sub = sub.filter(inner.column(0, Ty::Int, 0).eq(inner.column(1, Ty::Int, 0)));
                }
                exists(sub)
            }
        }
    }

    /// A value of any type, untyped for a select list.
    pub fn value(&self, v: &V) -> Expr<Any> {
        match v {
            V::I(e) => self.int(e).untyped(),
            V::T(e) => self.text(e).untyped(),
            V::P(e) => self.pred(e).untyped(),
        }
    }

    /// A value converted to `ty` (an assignment to a column of that type).
    pub fn value_as(&self, v: &V, ty: Ty) -> Expr<Any> {
        match (v, ty) {
            (V::I(_), Ty::Int) | (V::T(_), Ty::Text) | (V::P(_), Ty::Bool) => self.value(v),
            (V::T(e), Ty::Int) => length(self.text(e)).untyped(),
            (V::P(e), Ty::Int) => case::<i64>().when(self.pred(e), 1_i64).otherwise(0_i64).untyped(),
            (V::I(e), Ty::Text) => self.int(e).cast::<String>().untyped(),
            (V::P(e), Ty::Text) => case::<String>().when(self.pred(e), "y").otherwise("n").untyped(),
            (V::I(e), Ty::Bool) => self.int(e).gt(0_i64).untyped(),
            (V::T(e), Ty::Bool) => self.text(e).is_null().untyped(),
        }
    }

    /// A window function over the rows in scope; `keys` end its order.
    fn window(&self, w: &Win, keys: &[Expr<Any>]) -> Expr<Any> {
        let mut window = Window::new();
        if let Some(v) = &w.partition {
            window = window.partition_by(self.value(v));
        }
        for (e, desc, nulls_first) in &w.order {
            window = window.order_by(ordered(self.int(e), *desc, *nulls_first));
        }
        for k in keys {
            window = window.order_by(ordered(k.clone(), false, true));
        }
        let x = self.int(&w.arg);
        match w.func % 9 {
            0 => row_number().over(window).expr().untyped(),
            1 => rank().over(window).expr().untyped(),
            2 => dense_rank().over(window).expr().untyped(),
            3 => lag(x, 1).over(window).expr().untyped(),
            4 => lead(x, 2).over(window).expr().untyped(),
            5 => first_value(x).over(window).expr().untyped(),
            6 => sum(x).over(window).expr().untyped(),
            7 => count(x).over(window).expr().untyped(),
            _ => max(x).over(window).expr().untyped(),
        }
    }

    fn agg(&self, a: &Agg) -> Expr<Any> {
        match a {
            Agg::CountStar => count_star().expr().untyped(),
            Agg::Count(v) => count(self.value(v)).expr().untyped(),
            Agg::CountDistinct(e) => count_distinct(self.int(e)).expr().untyped(),
            Agg::Sum(e) => sum(self.int(e)).expr().untyped(),
            Agg::Max(e) => max(self.int(e)).expr().untyped(),
            Agg::Min(e) => min(self.int(e)).expr().untyped(),
            Agg::MaxT(e) => max(self.text(e)).expr().untyped(),
            Agg::MinT(e) => min(self.text(e)).expr().untyped(),
        }
    }
}

fn compare<X: quarry_core::expr::SqlType>(op: u8, x: Expr<X>, y: Expr<X>) -> Expr<bool>
where
    X::Base: quarry_core::expr::Compatible<X::Base>,
{
    match op % 6 {
        0 => x.eq(y),
        1 => x.ne(y),
        2 => x.lt(y),
        3 => x.le(y),
        4 => x.gt(y),
        _ => x.ge(y),
    }
}

fn ordered<X>(e: Expr<X>, desc: bool, nulls_first: bool) -> quarry_core::expr::OrderBy
where
    X: quarry_core::expr::SqlType,
{
    let item = if desc { e.desc() } else { e.asc() };
    if nulls_first { item.nulls_first() } else { item.nulls_last() }
}

/// A statement built through the public API, behind a trait object.
pub type Built = Box<dyn Compile>;

/// The `SELECT` of a [`Select`] (also used by the differential oracle).
pub fn build_select(schema: &Schema, s: &Select) -> quarry_core::statement::Select {
    let index = schema.index(s.table);
    let main = schema.tables[index].clone();
    let mut scope = Scope::new(schema, vec![(main.clone(), index)]);
    let joined = s.join.as_ref().map(|j| {
        let index = schema.index(j.table);
        let table = schema.tables[index].alias("j\"1");
        scope.tables.push((table.clone(), index));
        (table, j)
    });
    let keys: Vec<Expr<Any>> = (0..scope.tables.len()).map(|t| scope.column(t, Ty::Int, 0)).collect();
    let mut q = match &s.shape {
        Shape::Plain { items, windows, .. } => {
            let mut list: Vec<Labeled<Any>> =
                items.iter().enumerate().map(|(i, v)| scope.value(v).label(format!("c{i}"))).collect();
            for (i, w) in windows.iter().enumerate() {
                list.push(scope.window(w, &keys).label(format!("w{i}")));
            }
            select(list)
        }
        Shape::Grouped { key, aggs, .. } => {
            let mut list = vec![scope.column(key.0, key.1, key.2).label("k")];
            list.extend(aggs.iter().enumerate().map(|(i, a)| scope.agg(a).label(format!("a{i}"))));
            select(list)
        }
        Shape::Aggregate { aggs } => {
            select(aggs.iter().enumerate().map(|(i, a)| scope.agg(a).label(format!("a{i}"))).collect::<Vec<_>>())
        }
    }
    .from(&main);
    if let Some((table, j)) = joined {
        let on = match &j.on {
            // FULL JOIN: PostgreSQL plans only merge- or hash-joinable conditions.
            Some(p) if j.kind % 4 != 3 => scope.pred(p),
            _ => scope.column(0, Ty::Int, j.equi.0).eq(scope.column(1, Ty::Int, j.equi.1)),
        };
        q = match j.kind % 4 {
            0 => q.join(&table, on),
            1 => q.left_join(&table, on),
            2 => q.right_join(&table, on),
            _ => q.full_join(&table, on),
        };
    }
    if let Some(p) = &s.filter {
        q = q.filter(scope.pred(p));
    }
    match &s.shape {
        Shape::Plain { distinct: true, by_labels, .. } => {
            q = q.distinct();
            let labels = (0..).map(|i| format!("c{i}")).take(by_labels.len());
            let labels = labels.enumerate().map(|(i, c)| match &s.shape {
                Shape::Plain { items, .. } if i >= items.len() => format!("w{}", i - items.len()),
                _ => c,
            });
            for (label, (desc, nulls_first)) in labels.zip(by_labels) {
                q = q.order_by(ordered(col(label), *desc, *nulls_first));
            }
        }
        Shape::Plain { distinct: false, order, .. } => {
            for (v, desc, nulls_first) in order {
                q = q.order_by(ordered(scope.value(v), *desc, *nulls_first));
            }
            if let Some(nulls_first) = s.tiebreak {
                for k in &keys {
                    q = q.order_by(ordered(k.clone(), false, nulls_first));
                }
            }
        }
        Shape::Grouped { key, having, order, .. } => {
            let k = scope.column(key.0, key.1, key.2);
            q = q.group_by(k.clone());
            if let Some((a, op, v)) = having {
                q = q.having(compare(*op, scope.agg(a).assume::<i64>(), value(*v)));
            }
            for (a, desc, nulls_first) in order {
                q = q.order_by(ordered(scope.agg(a), *desc, *nulls_first));
            }
            q = q.order_by(ordered(k, false, s.tiebreak.unwrap_or(false)));
        }
        Shape::Aggregate { .. } => {}
    }
    if let Some((l, off)) = s.limit {
        q = q.limit(l);
        if let Some(o) = off {
            q = q.offset(o);
        }
    }
    q
}

/// The columns of table `index` converted from `cells` by type, the key set to `id`.
pub fn row_values(schema: &Schema, index: usize, id: i64, cells: &[Cell]) -> Vec<ColumnValue> {
    let t = &schema.tables[index];
    t.def()
        .columns
        .iter()
        .zip(&schema.types[index])
        .enumerate()
        .map(|(i, (c, ty))| {
            let cell = &cells[i % cells.len()];
            let v: Value = if i == 0 {
                Value::I64(id)
            } else if cell.null {
                Value::Null
            } else {
                match ty {
                    Ty::Int => Value::I64(cell.int),
                    Ty::Text => Value::from(cell.text.as_str()),
                    Ty::Bool => Value::Bool(cell.boolean),
                }
            };
            ColumnValue::untyped(c.name.clone(), Expr::<Any>::value(v))
        })
        .collect()
}

/// The statement `s` as the concrete `Insert` it builds, for the tests of
/// compiling it used up; `None` for anything but an insert or upsert.
pub fn build_insert(schema: &Schema, s: &S) -> Option<quarry_core::statement::Insert> {
    match s {
        S::Insert { table, id, cells, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let mut q = insert_into(&t).values(row_values(schema, index, *id, cells));
            if *returning {
                q = q.returning(t.columns());
            }
            Some(q)
        }
        S::Upsert { table, id, cells, action, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let scope = Scope::new(schema, vec![(t.clone(), index)]);
            let key = t.def().columns[0].name.clone();
            let conflict = insert_into(&t).values(row_values(schema, index, *id, cells)).on_conflict(key);
            let mut q = match action {
                None => conflict.do_nothing(),
                Some((column, value, condition)) => {
                    let c = 1 + column % (schema.types[index].len() - 1);
                    let name = t.def().columns[c].name.clone();
                    let v = match value {
                        Some(v) => scope.value_as(v, schema.types[index][c]),
                        None => Expr::from_node(quarry_core::ast::Expr::Excluded(name.clone())),
                    };
                    let set = ColumnValue::untyped(name, v);
                    match condition {
                        Some(p) => conflict.do_update_where(set, scope.pred(p)),
                        None => conflict.do_update(set),
                    }
                }
            };
            if *returning {
                q = q.returning(t.columns());
            }
            Some(q)
        }
        _ => None,
    }
}

pub fn build(schema: &Schema, s: &S) -> Built {
    match s {
        S::Select(q) => Box::new(build_select(schema, q)),
        S::SetOp { op, left, right } => {
            let side = |side: &SetSide| {
                let index = schema.index(side.table);
                let table = schema.tables[index].clone();
                let scope = Scope::new(schema, vec![(table.clone(), index)]);
                let items: Vec<Labeled<Any>> =
                    side.items.iter().enumerate().map(|(i, v)| scope.value(v).label(format!("v{i}"))).collect();
                let mut q = select(items).from(&table);
                if let Some(p) = &side.filter {
                    q = q.filter(scope.pred(p));
                }
                if let Some((directions, limit)) = &side.order_limit {
                    for (i, (desc, nulls_first)) in directions.iter().enumerate() {
                        q = q.order_by(ordered(col(format!("v{i}")), *desc, *nulls_first));
                    }
                    q = q.limit(*limit);
                }
                q
            };
            let (l, r) = (side(left), side(right));
            Box::new(match op % 4 {
                0 => l.union(r),
                1 => l.union_all(r),
                2 => l.intersect(r),
                _ => l.except(r),
            })
        }
        S::Update { table, column, value, filter, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let scope = Scope::new(schema, vec![(t.clone(), index)]);
            let ncols = schema.types[index].len();
            let c = 1 + column % (ncols - 1);
            let name = t.def().columns[c].name.clone();
            let mut q = update(&t).values(ColumnValue::untyped(name, scope.value_as(value, schema.types[index][c])));
            if let Some(p) = filter {
                q = q.filter(scope.pred(p));
            }
            if *returning {
                q = q.returning(t.columns());
            }
            Box::new(q)
        }
        S::Insert { .. } | S::Upsert { .. } => Box::new(build_insert(schema, s).expect("an insert")),
        S::UpdateFrom { table, other, column, value, filter, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let other_index = schema.index(*other);
            let o = schema.tables[other_index].alias("o");
            let scope = Scope::new(schema, vec![(t.clone(), index), (o.clone(), other_index)]);
            let c = 1 + column % (schema.types[index].len() - 1);
            let name = t.def().columns[c].name.clone();
            let set = ColumnValue::untyped(name, scope.value_as(value, schema.types[index][c]));
            let mut q =
                update(&t).values(set).from(&o).filter(scope.column(0, Ty::Int, 0).eq(scope.column(1, Ty::Int, 0)));
            if let Some(p) = filter {
                q = q.filter(scope.pred(p));
            }
            if *returning {
                q = q.returning(t.columns());
            }
            Box::new(q)
        }
        S::DeleteUsing { table, other, filter, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let other_index = schema.index(*other);
            let o = schema.tables[other_index].alias("o");
            let scope = Scope::new(schema, vec![(t.clone(), index), (o.clone(), other_index)]);
            let mut q = delete_from(&t).using(&o);
            if let Some(p) = filter {
                q = q.filter(scope.pred(p));
            }
            if *returning {
                q = q.returning(t.columns());
            }
            Box::new(q)
        }
        S::Delete { table, filter, returning } => {
            let index = schema.index(*table);
            let t = schema.tables[index].clone();
            let scope = Scope::new(schema, vec![(t.clone(), index)]);
            let mut q = delete_from(&t);
            if let Some(p) = filter {
                q = q.filter(scope.pred(p));
            }
            if *returning {
                q = q.returning(t.columns());
            }
            Box::new(q)
        }
    }
}
