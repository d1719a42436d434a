//! One module per subcommand.

pub mod run;
pub mod synth;
pub mod system;
