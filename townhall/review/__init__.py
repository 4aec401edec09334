"""Review of conversations by trainers: annotations, tags, exports."""
