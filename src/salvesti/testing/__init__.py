"""Test helpers shipped with Salvesti so that plugin authors test the way the core does.

- :mod:`salvesti.testing.modem_sim`: a byte-exact AT modem on a pty pair.
- :mod:`salvesti.testing.modem_fixtures`: the ``modem_simulator`` pytest fixture
  (``pytest_plugins = ["salvesti.testing.modem_fixtures"]``).
"""
