//! Pieces of `cargo xtask bench`: statistics, readings from /proc, payload sizes. The bench
//! itself is `src/bin/sprechstunde-bench.rs`; figures go to `BENCHMARKS.md`, never into
//! assertions.

pub mod first_frame;
pub mod media_path;
pub mod payload;
pub mod plot;
pub mod proc;
pub mod sfu_load;
pub mod stats;
