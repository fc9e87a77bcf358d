"""Sharing findings with partner departments: routing policy, minimisation, signed envelopes, publisher, subscriber, audit."""
