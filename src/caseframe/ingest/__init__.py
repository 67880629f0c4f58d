"""Reading transcripts: files to normalised text, speaker turns and meaning units.

Pure and store-independent; the store and the `import` command build on these functions.
"""

from caseframe.ingest.readers import SUPPORTED_EXTENSIONS, ReadDocument, read_document
from caseframe.ingest.turns import detect_turns
from caseframe.ingest.units import SCHEMES, content_hash, segment, word_count

__all__ = [
    "SCHEMES",
    "SUPPORTED_EXTENSIONS",
    "ReadDocument",
    "content_hash",
    "detect_turns",
    "read_document",
    "segment",
    "word_count",
]
