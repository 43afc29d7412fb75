"""Printable outputs for people: the meeting pack, the quarterly monitoring report and the annual
capacity check (HTML, PDF through headless Chromium, Excel)."""
