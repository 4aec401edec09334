"""The town's practical knowledge, read from the database at every question (issue 3).

Modules:

- ``models``: the tables (facility, facility_closure, procedure_info, street, waste_schedule,
  public_alert);
- ``hours``: the opening-hours engine (OSM ``opening_hours`` + French public holidays +
  exceptional closures): ``status_at``, ``hours_on``, ``week``; staff changes ``set_hours``,
  ``add_closure``, ``remove_closure``;
- ``facilities``: ``get``, ``all``, ``map_url``;
- ``procedures``: ``get``, ``all`` (documents, cost, delay, appointment, service-public.fr page);
- ``streets``: ``match`` (fuzzy), ``match_sector``, ``all``, ``sectors``, ``COMMUNE_BBOX``,
  ``in_commune``;
- ``waste``: ``next_collections`` by sector, ``set_schedule``;
- ``alerts``: ``active``, ``touching``; staff changes ``add_alert``, ``end_alert``;
- ``loader``: ``load_demo(session, today)`` from ``commune_data/`` (idempotent).
"""
