//! Quarry's conformance suite lives in this crate's tests/ directory.
