"""The `tracktui` command line (main.py) and `tracktui demo` (demo.py): they sit above the store, the SDK and
the app and load each only for the subcommand that needs it (`tracktui run` loads no Textual; the app loads
no `tracktui.capture`). tests/test_boundaries.py keeps it so.
"""
