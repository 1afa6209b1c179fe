"""The ``arbiter`` command groups, one module each; ``arbiter/cli.py`` assembles them."""
