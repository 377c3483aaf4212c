"""The nightly batch up to the transcript: inbox scan and ingest, media (ffmpeg), speech
models, transcription, and the job engine with its scheduler and executors."""
