"""The demo portfolio's builders, one module per thing built (``dashboard.data.seed`` puts
them together):

* ``master`` — regions, districts, sites, job groups and codes per site, people and scopes;
* ``contracts`` — contract flags and terms (fees, billable rates, share tiers, accounts);
* ``calendar`` and ``profiles`` — the dates of the world, its holidays, and what drives each
  site's demand (its kind, climate, season, weekdays, holiday effects);
* ``operations`` — every day's statistics, parking rates and payroll by job code;
* ``budget`` — the statistics, rates and payroll budgets, made as an operator makes them;
* ``ledger`` — Other Revenue / Other Expenses months and the P&L months (budget and actual);
* ``history`` — submitted forecasts of the closed months and their snapshots.
"""
