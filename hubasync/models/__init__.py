"""hubasync.models."""
