"""A filled-in wizard state and the plugins, shared by the setup tests."""

from __future__ import annotations

from salvesti.core.plugins import PluginManager
from salvesti.setup.state import Account, Carrier, Extension, Notice, WizardState

TRUNK_PASSWORD = "carrier-Secret-42"
EXT_PASSWORD = "Zq8vN3kLp0wX4tYb"


def plugins() -> PluginManager:
    manager = PluginManager()
    manager.load()
    return manager


def full_state(shape: str = "trunk") -> WizardState:
    state = WizardState()
    state.owner_name, state.owner_password = "mari", "Long-enough-pass-9"
    state.purpose = "Klienditeeninduse kvaliteedi parandamine"
    if shape == "trunk":
        state.carrier = Carrier(
            "trunk",
            Account("sip.carrier.example", "3726000000", TRUNK_PASSWORD),
            ["+3726000000", "+3726000001"],
        )
    elif shape == "accounts":
        state.carrier = Carrier(
            "accounts",
            accounts=[
                Account("sip.carrier.example", "3726000001", "acc-one-password", "+3726000001"),
                Account("sip.carrier.example", "3726000002", "acc-two-password", "+3726000002"),
            ],
        )
    else:
        state.carrier = Carrier("none")
    state.extensions = [
        Extension("101", "Mari Maasikas", EXT_PASSWORD),
        Extension("102", 'Jaan "JT" Tamm', EXT_PASSWORD + "2"),
    ]
    state.inbound = {line: ["101", "102"] for line in state.carrier.lines}
    state.numbers_done = True
    state.notice = Notice("bundled", "et")
    state.retention = {**{line: 60 for line in state.carrier.lines}, "default": 10}
    state.employees = ["Mari Maasikas <mari@pood.ee>", "Jaan Tamm"]
    return state
