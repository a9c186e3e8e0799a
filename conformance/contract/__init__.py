"""The contract as the checker reads it; nothing here imports the checker, the reports or the faces.

- `spec.py`: the OpenAPI spec (`openapi/partner-webhooks.yaml`): where it is, loading it, which copy it is.
- `catalogue.py` with `requirements.yaml`: every requirement (ID, level, text) and the rules around them.
- `facts.py`: the facts the engines share, read from the spec (event types, fields, limits, operations and
  paths) or, where the spec cannot say them, written there once (VALID-08's networks, VALID-10's limit,
  the test data every engine sends).
- `request_rules.py`: which requirement a request breaks, judged as the contract words it.
- `document.py`: the catalogue and the spec rendered as `docs/requirements.md`.

The reference server and the tests' own oracle keep independent copies of these facts on purpose (an oracle
must not share code with what it judges).
"""
