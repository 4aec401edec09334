"""Tables of this concern."""
