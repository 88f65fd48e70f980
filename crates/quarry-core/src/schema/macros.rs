//! The `table!` macro.

/// Declare a table with typed columns.
///
/// Each column is `name: RustType`, optionally `as "sql_name"`, optionally
/// followed by `[option, ...]` where each option is a method of
/// [`ColumnDef`](crate::schema::ColumnDef) (`primary_key`, `unique`,
/// `autoincrement(false)`, `default_value(..)`, `server_default(..)`,
/// `references("table", "column")`, `on_delete(..)`, `sql_type(..)`).
/// `Option<T>` columns are nullable. After the columns, `[option, ...]`
/// lists methods of [`TableBuilder`](crate::schema::TableBuilder) for the
/// table (`primary_key([..])`, `unique([..])`, `check(..)`, `index(..)`,
/// `foreign_key(..)`). A schema is given as `("name", schema = "app")`.
///
/// The macro declares a `Copy` struct whose public fields are the columns
/// ([`Column<T>`](crate::Column)), with `table()` for the table itself and
/// `alias("a")` for the table under an alias, and implements
/// [`TableSource`](crate::schema::TableSource) for it.
///
/// ```
/// use quarry_core::prelude::*;
/// use quarry_core::schema::{IndexDef, ReferentialAction};
///
/// quarry_core::table! {
///     /// Teams.
///     pub struct Teams("teams") {
///         id: i64 [primary_key],
///         name: String [unique],
///     }
/// }
///
/// quarry_core::table! {
///     /// People, each maybe in a team.
///     pub struct People("people") {
///         id: i64 [primary_key],
///         name: String,
///         team_id: Option<i64> [references("teams", "id"), on_delete(ReferentialAction::SetNull)],
///         score: f64 as "points" [default_value(0.0)],
///     }
///     [index(IndexDef::new("people_team_idx", ["team_id"]))]
/// }
///
/// let (p, t) = (People::table(), Teams::alias("t"));
/// let q = select((p.name, t.name)).from(p).left_join(t, p.team_id.eq(t.id));
/// assert_eq!(
///     q.compile(&Postgres)?.sql,
///     r#"SELECT "people"."name", "t"."name" FROM "people" LEFT JOIN "teams" AS "t" ON "people"."team_id" = "t"."id""#
/// );
/// assert_eq!(People::def().indexes.len(), 1);
/// assert_eq!(p.score.name(), "points");
/// # Ok::<(), quarry_core::CompileError>(())
/// ```
#[macro_export]
macro_rules! table {
    (
        $(#[$meta:meta])*
        $vis:vis struct $table:ident ( $name:literal $(, schema = $schema:literal)? ) {
            $(
                $(#[$col_meta:meta])*
                $col:ident : $ty:ty $(as $sql:literal)? $([ $($opt:ident $(( $($arg:expr),* $(,)? ))?),* $(,)? ])?
            ),* $(,)?
        }
        $([ $($topt:ident ( $($targ:expr),* $(,)? )),* $(,)? ])?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        #[allow(missing_docs)] // a column's doc comment is optional
        $vis struct $table {
            $(
                $(#[$col_meta])*
                pub $col: $crate::Column<$ty>,
            )*
            __quarry_alias: ::core::option::Option<&'static str>,
        }

        #[allow(dead_code)]
        impl $table {
            /// The table's SQL name.
            pub const NAME: &'static str = $name;

            /// The table, its columns qualified by its name.
            pub const fn table() -> Self {
                // Built at compile time, once: using the table costs a copy.
                const TABLE: $table =
                    $crate::__static_table!($table, $name, [$($schema)?], $( $col $(as $sql)? ),*);
                TABLE
            }

            /// The table under an alias (for self-joins), its columns
            /// qualified by the alias.
            pub const fn alias(alias: &'static str) -> Self {
                $table {
                    $( $col: $crate::Column::new(::core::option::Option::None, alias, $crate::__column_name!($col $(, $sql)?)), )*
                    __quarry_alias: ::core::option::Option::Some(alias),
                }
            }

            /// The table's metadata, built once.
            pub fn def() -> &'static ::std::sync::Arc<$crate::schema::TableDef> {
                static DEF: ::std::sync::OnceLock<::std::sync::Arc<$crate::schema::TableDef>> =
                    ::std::sync::OnceLock::new();
                DEF.get_or_init(|| {
                    let builder = $crate::schema::TableDef::builder($name);
                    $( let builder = builder.schema($schema); )?
                    $(
                        let builder = builder.column(
                            $crate::schema::ColumnDef::new(
                                $crate::__column_name!($col $(, $sql)?),
                                <$ty as $crate::expr::HasColumnType>::column_type(),
                            )
                            .nullable(<$ty as $crate::expr::SqlType>::NULLABLE)
                            $($( .$opt($($($arg),*)?) )*)?
                        );
                    )*
                    $($( let builder = builder.$topt($($targ),*); )*)?
                    ::std::sync::Arc::new(builder.build_def_unchecked())
                })
            }

            /// Check the declaration: keys, constraints and indexes must name
            /// declared columns.
            pub fn validate() -> ::core::result::Result<(), $crate::Error> {
                $crate::schema::validate(Self::def())
            }
        }

        impl $crate::schema::TableSource for $table {
            fn def(&self) -> &::std::sync::Arc<$crate::schema::TableDef> {
                <$table>::def()
            }

            fn alias_name(&self) -> ::core::option::Option<$crate::Ident> {
                self.__quarry_alias.map($crate::Ident::new_static)
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_name {
    ($col:ident) => {
        stringify!($col)
    };
    ($col:ident, $sql:literal) => {
        $sql
    };
}

/// The value of a `table!` table under its own name: each column with its
/// reference quoted at compile time (see `Column::prequoted`). The schema
/// comes in brackets so that each arm sees it outside the columns'
/// repetition.
#[doc(hidden)]
#[macro_export]
macro_rules! __static_table {
    ($table:ident, $name:literal, [], $( $col:ident $(as $sql:literal)? ),*) => {
        $table {
            $(
                $col: $crate::Column::new(::core::option::Option::None, $name, $crate::__column_name!($col $(, $sql)?))
                    .prequoted(concat!("\"", $name, "\".\"", $crate::__column_name!($col $(, $sql)?), "\"")),
            )*
            __quarry_alias: ::core::option::Option::None,
        }
    };
    ($table:ident, $name:literal, [$schema:literal], $( $col:ident $(as $sql:literal)? ),*) => {
        $table {
            $(
                $col: $crate::Column::new(
                    ::core::option::Option::Some($schema),
                    $name,
                    $crate::__column_name!($col $(, $sql)?),
                )
                .prequoted(concat!(
                    "\"", $schema, "\".\"", $name, "\".\"", $crate::__column_name!($col $(, $sql)?), "\""
                )),
            )*
            __quarry_alias: ::core::option::Option::None,
        }
    };
}
