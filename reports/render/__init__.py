"""What every report shares to put its content on paper: one module a concern.

- :mod:`reports.render.templates`: the one Jinja environment (the ``reports/templates`` folder,
  HTML autoescaped, undefined names an error) and the printed-at stamp.
- :mod:`reports.render.figures`: matplotlib figures as inline PNG data URIs.
- :mod:`reports.render.pdf`: HTML to PDF through headless Chromium.
- :mod:`reports.render.spreadsheet`: Excel workbooks whose text cells never become formulas.
- :mod:`reports.render.files`: a report's files written in a scratch folder, moved into place
  together.

Nothing is imported here, so a page that only renders templates never loads matplotlib.
"""
