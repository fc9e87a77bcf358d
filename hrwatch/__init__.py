"""Composition root: settings, command line and wiring of the hrwatch parts."""
