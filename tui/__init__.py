"""micromlp-tui's dashboard (Textual). Importing this package imports nothing else: the console
command's headless mode goes through `tui.cli` without ever loading Textual."""
