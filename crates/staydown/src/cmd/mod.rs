//! One module per subcommand; each owns its clap `Args` and a `run` function.

pub mod account;
pub mod audit;
pub mod bank;
pub mod bench_index;
pub mod bench_intake;
pub mod bench_pdq;
pub mod bench_report;
pub mod bench_screen;
pub mod bench_video;
pub mod eu_templates;
pub mod hash;
pub mod key;
pub mod provenance;
pub mod report;
pub mod serve;
pub mod sor;
pub mod vault;
