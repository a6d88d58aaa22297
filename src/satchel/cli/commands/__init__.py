"""Built-in ``satchel`` commands, one module per command group."""
