"""The bundled reference server: a careful implementation of CONTRACT.md, with planted faults on request.

- ``app``: the threaded HTTP/1.1 server; ``start_server(...) -> RunningServer`` is the entry point.
- ``api``: one request to one reply: routing, 405, keys, body decoding, Error bodies.
- ``service``: the five operations, scoped to the caller's company.
- ``validation``: pure checks of request bodies; ``store``: SQLite storage.
- ``faults``: the catalogue of plantable defects; ``keys``: who may call; ``cli``: ``conformance serve``.
"""
