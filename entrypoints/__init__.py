"""The doors onto the engine: the command line (`entrypoints.cli`), the scheduler process, and the
composition root (`entrypoints.bootstrap`) that wires the workflows and notifications into it."""
