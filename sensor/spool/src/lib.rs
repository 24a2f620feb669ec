//! Durable write-ahead spool (issue 14): to be written.
