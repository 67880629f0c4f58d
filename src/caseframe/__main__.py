"""`python -m caseframe` runs the CLI."""

from caseframe.cli.main import main

main()
