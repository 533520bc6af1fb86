"""`python -m llmcalc.cli`: the same as the `llmcalc` command."""

from . import main

main()
