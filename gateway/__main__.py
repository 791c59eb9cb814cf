from gateway.cli import cli

cli()
