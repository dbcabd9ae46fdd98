//! Test support for Moonfarm's test binaries, used only as a dev-dependency: polling with a
//! deadline ([`poll`]), the project's paths ([`paths`]), child processes whose output goes to a
//! log file ([`process`]), and files made once per test run and shared between test binaries
//! ([`cache`]).

pub mod cache;
pub mod paths;
pub mod poll;
pub mod process;
