"""The generic case engine: state machines, procedures, persistence, audit, evidence."""
