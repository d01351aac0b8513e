from kenning.cli import cli

cli(prog_name="kenning")
