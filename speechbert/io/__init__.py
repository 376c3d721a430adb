"""Readers and writers for the files the pipeline stages exchange."""
