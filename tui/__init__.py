"""micromlp-tui's front ends: the dashboard (`app.py`, with `widgets/`, `views/`, `screens/`, `plumbing/`),
the console command and its headless face (`console/`), and the browser mode (`web/`). Importing this
package imports nothing else: the headless face never loads Textual."""
