"""Village liaison points (村级联络点) and the liaison console."""
