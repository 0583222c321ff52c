"""The `micromlp-tui` console command, a program of its own beside the dashboard: its flags (both faces),
how it ends, and the headless face. Nothing in this package imports Textual until the dashboard is chosen."""
