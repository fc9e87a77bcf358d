"""Detectors for the fake_recruitment category; each module registers its detector classes."""
