"""The fault-injection run (issue: prove it under faults): ``python -m bench.faults --quick``."""
