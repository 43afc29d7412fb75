"""Printable outputs for people: the meeting pack, the quarterly monitoring report and the annual
capacity check (HTML, PDF through headless Chromium, Excel).

Each report is a package of small modules, one a concern (where its data comes from, what it
computes, its words, its files): :mod:`reports.meeting`, :mod:`reports.monitoring` and
:mod:`reports.capacity_check`. What they share to put content on paper — the one Jinja
environment, figures, PDF printing, spreadsheets, files written together — is in
:mod:`reports.render`; :mod:`reports.suppression` is the disclosure control of published counts.
"""
