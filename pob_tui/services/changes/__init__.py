"""Change enablement, one concern per module:

- `lifecycle`: the state machine and its use cases (create, edit, submit, schedule,
  implement, review, close, link an incident), risk refreshed on submission;
- `risk`: the questionnaire and the documented points score (pure);
- `conflicts`: clashes with other live changes and freeze windows;
- `queries`: the read side (list, week calendar, detail, templates);
- `records`: the lookups and input parsing they share.

Impact analysis lives in `services/impact.py` (shared with the CMDB and outages), working
days in `sla/workdays.py` (pure calendar code), the CAB in `services/cab.py`.
"""
