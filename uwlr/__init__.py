"""uwlr: the Edustandaard UWLR 2.2/2.3 protocol (SOAP 1.1, EDEXML 2.1) for LAS servers and EA clients.

No Django, no framework: plain data classes, one hardened XML parser, message builders and parsers per
operation, the UWLR fault tree, and a client over a swappable transport.
"""
