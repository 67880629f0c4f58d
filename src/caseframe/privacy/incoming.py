"""Pseudonymising a file on its way into the project (`import --pseudonymise`), store-free.

The API scans the text and asks for confirmation; these functions turn the accepted proposals
into the new text and file name, and move the original's speaker turns onto the new text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caseframe.model import SpeakerTurn
    from caseframe.privacy import KeyFile, ReviewItem
    from caseframe.privacy.apply import OffsetMap


def pseudonymised_file(
    key: KeyFile, text: str, file_name: str, items: list[ReviewItem]
) -> tuple[str, str, OffsetMap]:
    """The text with the accepted replacements, the scrubbed file name and the offset map; the
    pseudonyms given on the way are saved in the key before anything reaches the store."""
    from caseframe.privacy import accepted_by_document, pseudonymise
    from caseframe.privacy.corpus import Scrubber
    from caseframe.privacy.propagate import Vocabulary

    book = key.book.copy()
    dets = accepted_by_document(items).get(file_name, [])
    new_text, offsets, _r = pseudonymise(text, dets, book)
    new_name = Scrubber(key.registry, book, Vocabulary([text])).file_name(file_name)
    key.book = book
    key.save()
    return new_text, new_name, offsets


def moved_turns(
    key: KeyFile, original: str, turns: list[SpeakerTurn], offsets: OffsetMap
) -> list[SpeakerTurn]:
    """The original text's speaker turns (a pseudonym label such as "[Manager A3]:" is not
    recognised as a speaker by the turn detector), offsets moved, speaker names replaced."""
    from caseframe.ingest import detect_turns
    from caseframe.model import SpeakerTurn
    from caseframe.privacy.corpus import Scrubber
    from caseframe.privacy.propagate import Vocabulary

    scrub = Scrubber(key.registry, key.book, Vocabulary([original]))
    return [
        SpeakerTurn(i, scrub(tr.speaker, identifier=True), *offsets.map_span(tr.start, tr.end))
        for i, tr in enumerate(turns or detect_turns(original))
    ]
