"""Word segmentation of passage audio: a character CTC model, forced alignment, word CTMs."""
