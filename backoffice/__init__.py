"""The back office: staff pages, the review tool, the Open311 API and the chat widget."""
