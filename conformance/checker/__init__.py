"""The checker: the engines that judge a target against the contract, and what they share.

A run (`runner.run`) reaches the target, plans every engine's checks, runs the engines in turn over one
`run_state.RunState`, cleans up, decides the verdict and hands a `outcome.RunOutcome` to the reports.

- Engines: `engine` (what an engine is, `RunAborted`), `engines` (the registry, in run order):
  `scenarios/` (targeted scenarios, registered with `scenario.scenario`, each given a `scenario.Probe`),
  `lifecycle` (a Hypothesis state machine over a plain model), `fuzz/` (Schemathesis, by concern).
- Every answer: `observer` (HTTP-01 to -04 and -06, whichever engine asked).
- Reaching the target: `profile` (the target profile and the run's options), `client` (signed requests),
  `transport` (the one transport policy: rate limit, 429s, caps, evidence), `raw_request` (bytes as written),
  `evidence` (redacted exchanges), `reproduction` (a finding's shell script).
- Keeping the target clean: `marks` (the run's mark on what it writes), `ledger` (what it wrote, deleted at
  the end), `cleanup` (`conformance cleanup` for a run that died).
- The result: `results` (`Results.check`, the one way to record an assertion), `verdict`, `baseline`,
  `budget`, `outcome`.
- Faces still here until they move to `conformance/faces/`: `cli`, `console`, `replay`, `cleanup`'s command,
  `run_options`.
"""
