"""hubasync.testing."""
