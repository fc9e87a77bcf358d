"""The nightly batch scan over the store (`hrwatch scan`): lapsed licences, re-detection, mass-posted templates, annual reports."""
