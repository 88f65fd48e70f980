//! The conformance suite: every behaviour, run against every enabled
//! backend through the `quarry` facade. Each `backend_test!` expands into
//! one `#[tokio::test]` per backend (`<name>::sqlite`, `<name>::postgres`).

// Fixture helpers outside `#[test]` functions may panic on impossible
// values, and row types are spelled out where they are asserted.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::type_complexity)]

#[macro_use]
mod common;

mod concurrency;
mod crud;
mod errors;
mod functions;
mod queries;
mod schema;
mod smoke;
mod streaming;
mod transactions;
mod types;
mod upserts;
