"""The contract as the checker reads it: the spec, the requirement catalogue, and the facts derived from them.

Nothing here imports the checker, the reports or the faces; they all import from here. The reference
server and the tests' own oracle keep independent copies of these facts on purpose (an oracle must not
share code with what it judges).
"""
