"""`python -m llmcalc`: the same as the `llmcalc` command.

May import: llmcalc.cli.
"""

from .cli import main

main()
