"""webhook-conformance: a contract test suite and conformance checker for the Partner WebHooks API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("webhook-conformance")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
