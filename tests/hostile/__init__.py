"""The checker against hostile and broken targets: a misbehaving proxy in front of the reference server."""
