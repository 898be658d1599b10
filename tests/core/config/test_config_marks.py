"""ConfigMarks: the line of any key or list item of a loaded config, from the loader's own parse."""

from __future__ import annotations

from test_config_load import GOOD

from salvesti.core.config import ConfigMarks, load_config_with_marks


def test_lines_of_keys_items_and_flow_values(write, plugins):
    write("secrets.yaml", "trunk_password: hunter2\n")
    path = write("config.yaml", GOOD)
    config, marks = load_config_with_marks(path, plugins)
    lines = path.read_text(encoding="utf-8").splitlines()  # the file as written, not GOOD itself

    def at(needle: str) -> str:
        return f"config.yaml:{next(n for n, line in enumerate(lines, start=1) if needle in line)}"

    assert marks.file == "config.yaml"
    assert marks.where(["http"]) == at("http:")
    assert marks.where(["sources", 0]) == at("- platform: test_sip")
    assert marks.where(["sources", 1]) == at("- platform: test_serial")
    assert marks.where(["sources", 0, "trunk"]) == at("trunk: {registrar")
    assert marks.where(["sources", 0, "trunk", "username"]) == at("trunk: {registrar")  # a flow mapping
    assert marks.where(["sources", 0, "lines", 0]) == at('lines: ["+3726000000"]')
    assert marks.of_item("sources", "gsm", "device") == at("device: /dev/ttyUSB0")
    assert marks.item_index("sinks", "disk") == 0
    # what the file does not say has no line: defaults, other ids, indexes past the end
    assert config["sources"][0]["listen"] == "0.0.0.0:5060"
    assert marks.where(["sources", 0, "listen"]) is None
    assert marks.of_item("sources", "nope") is None
    assert marks.where(["sources", 5]) is None
    assert marks.where(["retention"]) is None
    assert marks.list_index(["sources", 0, "lines"], "+3726000000") == 0


def test_a_hub_without_a_file_knows_no_lines():
    marks = ConfigMarks.unknown()
    assert marks.where(["sources", 0]) is None and marks.of_item("sources", "x") is None
