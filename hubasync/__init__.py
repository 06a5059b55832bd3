"""hubasync: an asyncio client for the Docker Hub API."""

from __future__ import annotations

__version__ = "0.1.0"
