"""The recording notices the wizard offers: the ones shipped in the package, or an upload.

Estonian, Russian and English ship beside this module (``notices/README.md`` of the repository
says how they were made), so an installed package offers them; a language whose file is missing
is shown as "not bundled: upload your own".  An upload is accepted when the notice player itself can
decode it (:func:`salvesti.core.audio.convert.decode_to_mono`), so a file that passes here
plays on calls.
"""

from __future__ import annotations

from pathlib import Path

from salvesti.core.audio.convert import decode_to_mono
from salvesti.setup.checks import Words, words

BUNDLED_DIR = Path(__file__).with_name("notices")
LANGUAGES = ("et", "ru", "en")
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_SECONDS = 60.0


def bundled() -> dict[str, Path]:
    """Language -> shipped WAV, for the languages that have one."""
    return {
        lang: BUNDLED_DIR / f"{lang}.wav" for lang in LANGUAGES if (BUNDLED_DIR / f"{lang}.wav").is_file()
    }


def upload_problem(path: Path) -> Words | None:
    """Why the uploaded file cannot be a notice, or None."""
    try:
        pcm = decode_to_mono(path, 8000)
    except Exception as err:
        return words(
            f"Faili ei saa helina lugeda ({type(err).__name__}); laadi üles WAV-fail.",
            f"The file cannot be read as audio ({type(err).__name__}); upload a WAV file.",
        )
    seconds = len(pcm) / 2 / 8000
    if seconds < 0.3:
        return words("Fail on tühi või liiga lühike.", "The file is empty or too short.")
    if seconds > MAX_SECONDS:
        return words(
            f"Teade on {seconds:.0f} s pikk; helistaja kuulab selle enne kõnet ära, hoia see "
            f"alla {MAX_SECONDS:.0f} s.",
            f"The notice is {seconds:.0f} s long; callers hear all of it first, keep it under "
            f"{MAX_SECONDS:.0f} s.",
        )
    return None
