"""The administrative region tree (province → prefecture → county → township → village)."""
