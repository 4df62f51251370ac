"""WebSocket channels and live availability (Litestar channels over Redis pub/sub)."""
