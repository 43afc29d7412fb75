"""Tests of the reports: capacity check, quarterly monitoring, meeting pack, scenario report."""
