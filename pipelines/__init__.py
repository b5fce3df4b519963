"""Pipelines of the renovation monitoring system."""
