"""`pob serve`: the SSH front door. The key decides who you are; a pty runs the TUI, a
command runs the CLI, each in a process of its own that learns its agent from a one-use
session record (services/serve_sessions.py). No shell ever runs."""
