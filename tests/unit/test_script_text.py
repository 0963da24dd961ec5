"""The page scripts' words: every key a script asks ``fdMessage`` for is in the table
(web/script_text.py), every entry is used, and each has its German."""

from __future__ import annotations

import re
from pathlib import Path

from fairdraw.i18n import translations
from fairdraw.web.script_text import SCRIPT_MESSAGES, script_messages

STATIC = Path(__file__).resolve().parents[2] / "src" / "fairdraw" / "web" / "static"
# The keys named on a line that calls fdMessage (one key, or one per branch of a choice),
# and the keys a script builds from a prefix and a list of statuses.
KEY = re.compile(r"""["']([a-z_]+\.[a-z_]+)["']""")
BUILT = re.compile(
    r"""\[((?:\s*"[a-z_]+",?)+)\s*\][^;]*?fdMessage\(\s*"([a-z_]+\.)"\s*\+""", re.DOTALL
)


def used_keys() -> dict[str, str]:
    """Every key the static scripts use, with the file that uses it."""
    found: dict[str, str] = {}
    for path in sorted(STATIC.rglob("*.js")):
        if "vendor" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        keys = {
            key
            for line in source.splitlines()
            if "fdMessage(" in line and "window.fdMessage =" not in line
            for key in KEY.findall(line)
        }
        for names, prefix in BUILT.findall(source):
            keys.update(prefix + name for name in re.findall(r'"([a-z_]+)"', names))
        for key in keys:
            found.setdefault(key, path.relative_to(STATIC).as_posix())
    return found


def test_the_scripts_use_fd_message() -> None:
    used = used_keys()
    for script in ("js/live.js", "js/present.js", "js/reveal.js", "js/share.js", "js/ticket.js"):
        assert script in used.values()
    assert {"live.open", "live.cancelled", "present.drawn", "reveal.progress"} <= set(used)


def test_every_key_a_script_uses_is_in_the_table() -> None:
    missing = {key: where for key, where in used_keys().items() if key not in SCRIPT_MESSAGES}
    assert missing == {}


def test_every_entry_of_the_table_is_used() -> None:
    assert sorted(set(SCRIPT_MESSAGES) - set(used_keys())) == []


def test_every_entry_has_its_german() -> None:
    german = translations("de")
    untranslated = [
        key
        for key, text in SCRIPT_MESSAGES.items()
        if (german.gettext(text) if isinstance(text, str) else german.ngettext(*text, 2))
        == (text if isinstance(text, str) else text[1])
    ]
    assert untranslated == []
    assert script_messages("de")["live.sealed"] == "Die Liste der Teilnahmen ist versiegelt."
    assert script_messages("de")["reveal.progress"] == {
        "one": "%(step)s von %(num)s Preis enthüllt",
        "other": "%(step)s von %(num)s Preisen enthüllt",
    }
    assert script_messages("en")["reveal.progress"] == {
        "one": "%(step)s of %(num)s prize revealed",
        "other": "%(step)s of %(num)s prizes revealed",
    }
