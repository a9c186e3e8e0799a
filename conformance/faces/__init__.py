"""The faces of the checker: the `conformance` command (`cli`, one module per subcommand: `run`, `cleanup`,
`replay`, `report`, `serve`), the run's console (`console`), and the pytest plugin (`pytest_plugin`).

Each is a thin layer over the library (`conformance.checker`, `conformance.reports`, `conformance.reference`);
nothing in the library imports a face. Light on purpose: the pytest plugin loads into every pytest session.
"""
