"""The local stack: real servers started on loopback ports, with data under one git-ignored folder."""

from app.stack.servers import LocalServer, local_servers
from app.stack.supervisor import LocalStack

__all__ = ["LocalServer", "LocalStack", "local_servers"]
