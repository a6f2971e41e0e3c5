"""Helpers shared by the test modules, one concern per module.

- ``paths``: the checkout (``REPO``), the shared corpus beside it, the virtualenv's ``bin``.
- ``net``: a free port on 127.0.0.1.
- ``http``: an HTTP server on 127.0.0.1 answering from routes or a responder, recording requests.
- ``wire``: a raw-socket HTTP server whose paths misbehave on the wire (drip, hang, bombs).
- ``cli``: the environment for, and a run of, the installed ``straitwatch`` command.
- ``mail``: a real SMTP server that keeps what it receives, and decoded subjects.
- ``db``: rows of one SQL query, and throwaway PostgreSQL databases.

Fixtures stay in ``tests/conftest.py``; these are plain functions and classes, imported.
"""
