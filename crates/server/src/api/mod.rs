//! The JSON API under `/api/v1`; one module per route family.

pub mod accounts;
pub mod art18;
pub mod banks;
pub mod cases;
pub mod catalogue;
pub mod content;
pub mod decisions;
pub mod helpline;
pub mod notices;
pub mod operations;
pub mod queue;
pub mod review;
pub mod screen;
pub mod stats;
pub mod transparency;
pub mod videos;
