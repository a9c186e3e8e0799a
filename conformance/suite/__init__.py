"""The conformance suite for pytest: `pytest --pyargs conformance.suite --conformance-url URL`."""
