"""The Schemathesis engine, by concern (nothing here imports Schemathesis: `rules` is light).

- `engine`: the engine's run (`ENGINE`, `run_schemathesis`).
- `config`: Schemathesis's configuration for a run, and the spec as this target needs it.
- `hook`: the transport every request of the engine goes through (`ObservedTransport`), on the run's policy.
- `checks`: what each built-in check's verdict means for the contract (`CHECKS`).
- `recorder`: the event stream turned into requirement results (`VerdictRecorder`).
- `rules`: the contract's rules for a request (`RequestRules`), which decide whom a failed check blames.
"""
