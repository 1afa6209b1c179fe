"""The retail support dataset (tau-bench shapes) as a second sandbox domain.

- ``db`` — schema and loader: a peer ``db.json`` (or ``users.json`` / ``orders.json``
  / ``products.json``) into SQLite.
- ``router`` — the ``/retail`` read and write endpoints (writes behind
  ``sandbox.idempotency``) and a few admin controls for evals.
- ``app`` — ``create_retail_app(db_path)``, the small app factory serving it.
"""
