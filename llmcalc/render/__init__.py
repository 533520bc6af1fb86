"""Renderers: format-neutral sheets (llmcalc.present.sheet) and documents in, text out. Only formatting happens here;
nothing computes a figure or knows a command.

terminal: rich tables, and rich's SVG / HTML / text export. markdown: pipe tables. json: a document. csv: records.
chart: the plain-character line chart. A command loads only the renderer of the format asked for: JSON and CSV
import no rich.

May import: llmcalc.present.sheet (the blocks it draws), llmcalc.units. Never a formula, a loader or the CLI.
"""
