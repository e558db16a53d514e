//! Shared helpers for fieldsync's black-box tests.
