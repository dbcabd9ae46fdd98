//! Moonfarm's renderer: the RDLA scene loader and the CPU path tracer, free of I/O and of
//! any knowledge of the queue.

pub mod graph;
pub mod rdla;
