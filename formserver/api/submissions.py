"""Submissions through the API."""
