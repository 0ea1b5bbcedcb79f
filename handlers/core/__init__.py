"""What every journey stands on: the conversation engine, the neutral message model, the
program file's settings, asking and reading questions, working hours, numbers people type
(refs), the audit log, the outbox and the ports to the outside world."""
