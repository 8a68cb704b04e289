//! The command line: argument definitions and the commands they run. Lives in the binary, not
//! the library: the library takes validated settings and never names a flag.

pub mod commands;
