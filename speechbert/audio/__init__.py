"""Waveform loading (wav.scp, pipes, segments), feature frontends (Kaldi fbank/MFCC, SSL models;
``speechbert.audio.frontends``) and global CMVN."""
