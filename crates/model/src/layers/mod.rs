//! The building blocks of a gpt-oss decoder layer.

pub mod argmax_head;
pub mod attention;
pub mod linear;
pub mod moe;
pub mod norm;
pub mod rope;
