"""Ground floor of hft: config, domain model, IPC messages and queues, supervisor and CLI."""
