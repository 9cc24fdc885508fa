"""Hand-off to the contact window: compose the request, store it durably, send it over SMTP.

Adapters use `compose.handoff_from_answer(...)` to build a request and
`service.HandoffService.submit(...)` to store and send it; `policybot handoff` (cli.py) lets
operators inspect and resend. Import the module you need: this package re-exports nothing, so
that `policybot` commands which never hand anything off do not load the database layer.
"""
