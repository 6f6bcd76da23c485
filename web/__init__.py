"""Web helpers shared by every app: HTMX rendering, the client's address, pagination, charts,
hostile-input parsing, text rules and RFC 9457 problem responses. A library: it imports no
app of Keyward's, and the project package (`portal/`) only wires settings and URLs."""
