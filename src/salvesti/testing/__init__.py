"""Test helpers shipped with Salvesti so that plugin authors test the way the core does.

- :mod:`salvesti.testing.modem_sim`: a byte-exact AT modem on a pty pair.
"""
