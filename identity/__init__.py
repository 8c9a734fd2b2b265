"""OneID: identity graph, connected components, stable ids, golden record (next issue)."""
