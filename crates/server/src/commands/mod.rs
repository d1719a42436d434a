//! One module per subcommand.

pub mod bench;
pub mod run;
pub mod serve;
pub mod synth;
pub mod system;
pub mod weights;
