//! Pseudonymisation of events before they leave the municipality (issue 14): to be written.
