"""The demo portfolio's builders, one module per thing built (``dashboard.data.seed`` puts
them together):

* ``master`` — regions, districts, sites, job groups and codes per site, people and scopes;
* ``contracts`` — contract flags and terms (fees, billable rates, share tiers, accounts);
* ``operations`` — daily statistics, parking rates, payroll by job code, and their budgets;
* ``ledger`` — Other Revenue / Other Expenses months and the P&L months (budget and actual);
* ``history`` — submitted forecasts of the closed months and their snapshots.
"""
