"""The PDF's pieces: the Typst template (template/), the data it is given (data.py)
and entries' Markdown as plain nodes (nodes.py). render_pdf.py sends them to the
typesetting process (journal/typeset.py, which also names the fonts)."""
