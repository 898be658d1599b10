"""First-run onboarding in the browser: ``salvesti setup`` (and ``salvesti run`` without a config).

A shop owner should not have to learn YAML before the first recorded call, so a small aiohttp
app of its own (not the hub) walks them through owner, purpose, carrier, numbers, notice,
retention and the employees told, then writes ``config.yaml`` and ``secrets.yaml`` once,
atomically, checked by the same validator ``check-config`` uses.  One job per module:

- :mod:`.presets` carrier shapes (data in ``presets.yaml``)
- :mod:`.checks` every field checked with the config schema's own validators, in words
- :mod:`.state` what the wizard has gathered so far (in memory only)
- :mod:`.probe` a real REGISTER to the carrier with the sip source's own client
- :mod:`.render` the config and secrets as commented YAML text
- :mod:`.writer` the atomic write and validation of those files
- :mod:`.admin` the first admin user, as ``salvesti users add`` makes it
- :mod:`.guard` the one-time setup code and the refusal to reopen
- :mod:`.app` the routes; :mod:`.cli` the command
"""
