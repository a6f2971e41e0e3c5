"""The ``straitwatch`` command line (Typer): ``app`` in ``flows.cli.app``, one module per
group of commands, each importing what it runs only when it runs."""
