"""Transcribing recorded interviews on the researcher's own machine.

ffmpeg decodes (audio.py), faster-whisper recognises chunk by chunk from a local model folder
(engine.py, run.py), an interrupted run resumes (resume.py), and the passages become a transcript
with turns split at pauses (transcript.py). Subtitles and word error rate live here too. Nothing
here touches the store; `caseframe.api.transcribe` stores the result.
"""
