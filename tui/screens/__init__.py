"""Screens pushed over the dashboard: the settings form (`o`)."""
