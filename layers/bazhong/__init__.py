"""The embedded 巴中市 dataset: real boundaries, generated plan layers."""

from pathlib import Path

#: The embedded project file, read through the same loader as users' projects.
PROJECT_FILE = Path(__file__).parent / "project.toml"
