//! The JSON API under `/api/v1`; one module per route family.

pub mod catalogue;
pub mod notices;
pub mod queue;
pub mod transparency;
