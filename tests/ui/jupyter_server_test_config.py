"""JupyterLab configuration for the galata browser tests (test only: it turns security off)."""
from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object jupyter passes in)
