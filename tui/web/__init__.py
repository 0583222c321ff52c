"""The browser mode (`micromlp-tui --serve`): the server and the page it serves."""
