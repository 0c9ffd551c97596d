from __future__ import annotations

from services.worker.reply import reply_parts
from shared.wire import MAX_MESSAGE_CHARS


def test_think_and_respond_tags_are_stripped_and_blank_lines_split_messages() -> None:
    text = "[THINK]the client wants a slot[/THINK][RESPOND]Здравствуйте!\n\nЕсть время завтра в 10:00.[/RESPOND]"
    assert reply_parts(text) == ["Здравствуйте!", "Есть время завтра в 10:00."]


def test_a_part_longer_than_whatsapp_allows_is_cut_at_a_space() -> None:
    parts = reply_parts("слово " * 1500)
    assert len(parts) == 3
    assert all(len(part) <= MAX_MESSAGE_CHARS for part in parts)
    assert " ".join(parts).split() == ["слово"] * 1500
