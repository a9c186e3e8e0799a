"""The bundled reference server: a careful implementation of CONTRACT.md, with planted faults on request."""
