"""Presentation: each command's result objects turned into format-neutral blocks (sheet.py: tables, notes, charts),
a JSON document and CSV records, one module per command (count, flops, memory, fit, listing, compare, verify,
sweep). Nothing here computes a figure or prints; the renderers format what these build.

describe.py says the architecture in words (compare's rows, component labels); common.py holds the labels and
headings the commands share.

May import: llmcalc.errors, llmcalc.units, llmcalc.model, llmcalc.formulas and llmcalc.results (their result types
and constants). Never rich (that is the renderers' business), never the CLI.
"""
