"""The ``novex-geo`` command line interface (one module per subcommand group)."""
