"""Reading the <AudioSource> elements of a .qdpx: a recording, its transcript and sync points.

caseframe codes text, so a recording comes in as the recording of a text source:
- when its first <Transcript> names the same plain-text file as a <TextSource> (caseframe's own
  layout, and the layout of the standard's example), the recording joins that source;
- otherwise the transcript becomes a source of its own, with the <AudioSource>'s GUID, and its
  <TranscriptSelection>s (between two sync points) become its selections.
A recording without a transcript is skipped as before. <AudioSelection>s (stretches of time) and
further transcripts are reported as lost. The file itself is not read here: `RefiMedia.blocks`
opens the archive again when the import stores it, so no recording is ever held in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from caseframe.errors import InvalidInput
from caseframe.interop.refi.elements import child_text, local, register, required
from caseframe.interop.refi.model import (
    RefiMedia,
    RefiProject,
    RefiSelection,
    RefiSource,
    RefiSyncPoint,
    guid_key,
)
from caseframe.interop.refi.values import derived_guid

if TYPE_CHECKING:
    from caseframe.interop.refi.read_project import _ProjectReader
    from caseframe.util.zipguard import SafeArchive


def read_recordings(reader: _ProjectReader, elements: list[Element], project: RefiProject) -> None:
    """Attach each <AudioSource> to its text source, or add its transcript as a new source."""
    for el in elements:
        source = _recording(reader, el)
        if source is not None:
            project.sources.append(source)


def entry_blocks(reopen: Callable[[], SafeArchive], entry: str) -> Callable[[], Iterator[bytes]]:
    """A function that streams one archive entry, opening (and checking) the archive again."""

    def blocks() -> Iterator[bytes]:
        with reopen() as archive:
            if archive.find(entry) != entry:
                raise InvalidInput(
                    f"archive entry {entry!r} is gone: the file changed during the import",
                    where=archive.where,
                )
            yield from archive.stream(entry)

    return blocks


def _recording(reader: _ProjectReader, el: Element) -> RefiSource | None:
    """The new source a recording brings, or None (joined a text source, or skipped)."""
    report = reader.report
    transcripts = reader.findall(el, "Transcript")
    if not transcripts:
        reader.skip_source(el, why="it has no transcript, and caseframe codes text")
        return None
    reader.handled.append(el)
    at = reader.at(el)
    guid = required(el, "guid", at)
    first = transcripts[0]
    reader.handled.append(first)
    path = first.get("plainTextPath")
    entry = reader.resolve_entry(path)[1] if path else None
    source = reader.text_entries.get(entry) if entry else None
    joined = source is not None and source.media is None
    if not joined:
        name = el.get("name") or first.get("name") or guid
        text = reader.source_text(first, f"transcript of {name}")
        if text is None:
            reader.skip_source(el, why="its transcript is stored outside the archive")
            return None
        source = RefiSource(
            guid=guid,
            name=name,
            text=text,
            description=child_text(el, reader.q + "Description"),
            creating_user=reader.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
    assert source is not None
    register(reader.index, guid, "source", source, at)
    reader.collect_note_refs(el, source.guid)
    reader.collect_note_refs(first, source.guid)
    _further_transcripts(reader, transcripts[1:])
    points = _sync_points(reader, first, len(source.text))
    _transcript_selections(reader, first, source, points)
    _audio_selections(reader, el)
    source.codings += [reader.coding(c) for c in reader.findall(el, "Coding")]
    for vv in reader.findall(el, "VariableValue"):
        pair = reader.variable_value(vv, "sources")
        if pair is not None:
            source.variables.setdefault(pair[0], pair[1])
    if joined and child_text(el, reader.q + "Description") not in (None, source.description):
        report.lost("descriptions of recordings", "the transcript's description was kept")

    media = RefiMedia(
        guid=guid if joined else derived_guid("recording", guid_key(guid)),
        name=el.get("name") or None,
        transcript_guid=required(first, "guid", reader.at(first)),
        sync_points=list(points.values()),
        creating_user=reader.user_ref(el.get("creatingUser")),
        created=el.get("creationDateTime"),
    )
    audio_path = el.get("path")
    kind, audio_entry = reader.resolve_entry(audio_path) if audio_path else ("", None)
    if audio_entry is not None:
        reader.used.add(audio_entry)
        media.entry = audio_entry.rsplit("/", 1)[-1]
        media.size = reader.archive.size(audio_entry)
        media.blocks = entry_blocks(reader.reopen, audio_entry)
    elif kind == "external":
        report.lost("recordings stored outside the archive", "external files are not read")
    elif audio_path:
        raise InvalidInput(
            f"the recording {audio_path!r} is missing from the archive",
            where=at,
            hint="export the project again with its recordings",
        )
    source.media = media
    return None if joined else source


def _sync_points(reader: _ProjectReader, transcript: Element, length: int) -> dict:
    """The transcript's sync points by GUID key, in file order; unusable ones are reported."""
    points: dict[str, RefiSyncPoint] = {}
    for el in reader.findall(transcript, "SyncPoint"):
        reader.handled.append(el)
        guid = required(el, "guid", reader.at(el))
        try:
            point = RefiSyncPoint(guid, int(el.get("position", "")), int(el.get("timeStamp", "")))
        except ValueError:
            reader.report.lost("sync points without a position or a time", "they place nothing")
            continue
        if not 0 <= point.position <= length or point.time_ms < 0:
            reader.report.lost("sync points outside their transcript", "they place nothing")
            continue
        if guid_key(guid) in points or guid_key(guid) in reader.index:
            raise InvalidInput(f"GUID {guid} is used twice", where=reader.at(el))
        points[guid_key(guid)] = point
    return points


def _transcript_selections(
    reader: _ProjectReader, transcript: Element, source: RefiSource, points: dict
) -> None:
    q = reader.q
    added = False
    for el in reader.findall(transcript, "TranscriptSelection"):
        reader.handled.append(el)
        at = reader.at(el)
        guid = required(el, "guid", at)
        start = points.get(guid_key(el.get("fromSyncPoint") or ""))
        end = points.get(guid_key(el.get("toSyncPoint") or ""))
        if start is None or end is None or start.position > end.position:
            _lost_with_codings(reader, el, "transcript selections without usable sync points")
            continue
        selection = RefiSelection(
            guid=guid,
            start=start.position,
            end=end.position,
            name=el.get("name"),
            description=child_text(el, q + "Description"),
            creating_user=reader.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
        register(reader.index, guid, "selection", selection, at)
        reader.collect_note_refs(el, guid)
        selection.codings = [reader.coding(c) for c in reader.findall(el, "Coding")]
        source.selections.append(selection)
        added = True
    if added:  # in text order among the text source's own
        source.selections.sort(key=lambda s: (s.start, s.end))


def _audio_selections(reader: _ProjectReader, el: Element) -> None:
    for sel in reader.findall(el, "AudioSelection"):
        _lost_with_codings(
            reader, sel, "selections of stretches of audio (AudioSelection)", text=False
        )


def _further_transcripts(reader: _ProjectReader, transcripts: list[Element]) -> None:
    for el in transcripts:
        reader.report.lost(
            "transcripts of a recording beyond the first", "caseframe links one text to a recording"
        )
        path = el.get("plainTextPath")
        entry = reader.resolve_entry(path)[1] if path else None
        if entry is not None:
            reader.used.add(entry)
        for sel in reader.findall(el, "TranscriptSelection"):
            _lost_with_codings(reader, sel, "selections in further transcripts")


def _lost_with_codings(reader: _ProjectReader, el: Element, what: str, text: bool = True) -> None:
    why = "their place in the text is unknown" if text else "caseframe codes text, not time"
    codings = [d for d in el.iter() if local(d.tag) == "Coding"]
    reader.report.lost(what, why)
    reader.report.lost(f"codings in {what}", why, len(codings))
    for d in el.iter():
        guid = d.get("guid")
        if guid and guid_key(guid) not in reader.index:
            reader.index[guid_key(guid)] = ("skipped", "lost selection")
