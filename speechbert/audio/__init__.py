"""Waveform loading (wav.scp, pipes, segments), Kaldi-compatible features and global CMVN."""
