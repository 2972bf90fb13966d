"""Generate ADF artifacts (git layout, custom-parameter definition, ARM templates) from the one YAML spec."""
