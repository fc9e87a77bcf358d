"""Detectors for the personal_data category; each module registers its detector classes."""
