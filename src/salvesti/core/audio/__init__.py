"""Audio helpers: G.711 tables, codecs, resampling, the crash-safe WAV writer."""
