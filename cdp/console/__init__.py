"""The console and the API (``cdp serve``): one FastAPI application over the marts, gold and
the OneID map, with local users, roles and data scopes.

- ``app.py``: the application, its middleware and ``serve``;
- ``roles.py``: what each role may do; ``scope.py``: the organisation tree and a user's node;
- ``users.py``: users (argon2 password hashes) and API tokens (stored as SHA-256);
- ``data.py``: the one module that reads data (marts, OneID), every query under a scope;
  ``queries.py``: the SQL it runs, built by named functions; ``oneid_index.py``: the OneID
  map in memory;
- ``auth.py``: who is asking (a session cookie or a bearer token);
- ``api.py``: the JSON API (``/api/v1``); ``pages.py``: login, dashboards, members, identity
  explain; ``segment_pages.py``: segments and the builder; ``rendering.py``: what pages share;
- ``builder.py``: the segment builder's form as segment YAML; ``audit.py``: views and
  exports in ``gold.audit_log``.
"""
