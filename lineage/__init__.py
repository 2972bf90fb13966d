"""Proof of provenance: lineage records, their chain, verification, events and pictures."""
