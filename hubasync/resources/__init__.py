"""hubasync.resources."""
