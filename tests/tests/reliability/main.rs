//! The reliability suite: faults caused on purpose (full disks, read-only
//! mounts, corrupt files, cancelled futures, dropped guards, killed and
//! restarted servers) and what Quarry guarantees in each. See
//! docs/reliability.md for the list of scenarios and the test of each.

// Fixture helpers outside `#[test]` functions may panic on impossible values.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[macro_use]
mod common;

mod bulk;
mod cancellation;
mod deep_trees;
mod fairness;
mod health_check;
mod network;
mod server_faults;
mod sqlite_files;
mod sqlite_locking;
mod values;
