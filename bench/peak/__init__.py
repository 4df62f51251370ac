"""Peak season benchmark: ``python -m bench.peak`` (see ``__main__``)."""
