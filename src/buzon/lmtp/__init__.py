"""LMTP delivery (RFC 2033): a sans-I/O state machine, an asyncio service, delivery logic."""
