//! The file formats of a run's tables, each with its writer and its reader side by
//! side: [`csv`] (rows in, rows out; a row that does not read is returned apart, not an
//! error) and [`parquet`] (typed columns read from a row type).

pub mod csv;
pub mod parquet;
