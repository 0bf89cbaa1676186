"""jupyterlab-ain: "Run on AI Network", the prebuilt JupyterLab extension."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "dev"


def _jupyter_labextension_paths():
    """Where JupyterLab finds the prebuilt extension installed by this package."""
    return [{"src": "labextension", "dest": "jupyterlab-ain"}]
