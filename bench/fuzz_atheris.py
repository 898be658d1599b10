"""Coverage-guided fuzzing of one parser target with atheris (libFuzzer), for deeper hunts.

    .venv/bin/pip install atheris        # x86_64 wheels; not a dependency (no arm64 build)
    nice -n 10 .venv/bin/python bench/fuzz_atheris.py sip -max_total_time=600 -timeout=2 corpus-sip/

bench/fuzz.py mutates blindly and fast; libFuzzer keeps the inputs that reach new lines of
the parser and mutates those, so it gets past checks a blind mutator rarely passes. Same
targets and oracles (salvesti.testing.fuzz.targets), so a crash here is a crash there. The
corpus folder is seeded with the captured messages on first use; libFuzzer adds to it. The
first crash stops the run and is written as ``crash-<hash>`` (libFuzzer's own behaviour).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"


def main() -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: .venv/bin/pip install atheris")
    with atheris.instrument_imports(include=["salvesti.core.protocols"]):
        from salvesti.testing.fuzz.corpus import at_seeds, rtp_seeds, sdp_seeds, sip_seeds
        from salvesti.testing.fuzz.targets import parser_targets
    targets = {
        t.name: t for t in parser_targets(sip_seeds(TESTS), sdp_seeds(TESTS), rtp_seeds(), at_seeds(TESTS))
    }
    if len(sys.argv) < 2 or sys.argv[1] not in targets:
        sys.exit(f"usage: fuzz_atheris.py {{{','.join(targets)}}} [libFuzzer options] [CORPUS_DIR]")
    target = targets[sys.argv.pop(1)]
    for arg in sys.argv[1:]:
        folder = Path(arg)
        if not arg.startswith("-") and (not folder.exists() or not any(folder.iterdir())):
            folder.mkdir(parents=True, exist_ok=True)
            for index, seed in enumerate(target.seeds):
                (folder / f"seed-{index}").write_bytes(seed)
    atheris.Setup(sys.argv, target.check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
