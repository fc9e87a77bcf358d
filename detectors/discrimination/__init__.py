"""Detectors for the discrimination category; each module registers its detector classes."""
