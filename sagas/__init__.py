"""The booking saga: orchestrator and participants."""
