"""E-mail: parse real-world messages, guard against loops, thread replies, fetch and send."""
