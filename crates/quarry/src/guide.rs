//! The user guide (`docs/guide`), compiled here so that its examples are tested.
#![doc = include_str!("../../../docs/guide/README.md")]

/// Connecting: engines, URLs, pool settings.
pub mod connecting {
    #![doc = include_str!("../../../docs/guide/connecting.md")]
}

/// Declaring tables: `table!`, keys, constraints, indexes, `MetaData`, types.
pub mod schema {
    #![doc = include_str!("../../../docs/guide/schema.md")]
}

/// Selecting: queries, joins, conditions, aggregates, subqueries, CTEs, windows, decoding.
pub mod selecting {
    #![doc = include_str!("../../../docs/guide/selecting.md")]
}

/// Modifying data: `INSERT`, upserts, `UPDATE`, `DELETE`, `RETURNING`, bulk inserts.
pub mod modifying {
    #![doc = include_str!("../../../docs/guide/modifying.md")]
}

/// Prepared statements: `param()`, `prepare()`, `bind()`, sharing, decoding by name.
pub mod prepared {
    #![doc = include_str!("../../../docs/guide/prepared.md")]
}

/// Transactions: guards, savepoints, options, retries.
pub mod transactions {
    #![doc = include_str!("../../../docs/guide/transactions.md")]
}

/// Streaming rows with bounded memory.
pub mod streaming {
    #![doc = include_str!("../../../docs/guide/streaming.md")]
}

/// Errors: `Error`, `ErrorKind` and the codes behind them, `CompileError`.
pub mod errors {
    #![doc = include_str!("../../../docs/guide/errors.md")]
}

/// What differs between PostgreSQL and SQLite.
pub mod differences {
    #![doc = include_str!("../../../docs/guide/differences.md")]
}
