"""Privacy documents generated from the running config (``salvesti privacy notice|record``).

The GDPR Art. 13 notice for callers and employees and the Art. 30 record of processing are
rendered from :func:`salvesti.privacy.facts.gather`, so they always match what the box does.
"""
