//! The BigQuery data set (`mimic-iv-bigquery`) through the real binary: against a
//! scripted stand-in server (`mock`, `scripted`: what the emulator cannot do) and
//! against the bqemulator emulator seeded with the demo (`emulator`).

mod emulator;
mod mock;
mod scripted;
