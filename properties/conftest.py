"""Lineage's Hypothesis profiles for this folder (see lineage.properties.profiles)."""

from lineage.properties.profiles import load_default_profile as pytest_configure  # noqa: F401
