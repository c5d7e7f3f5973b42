"""The LangGraph agent worker: answers a tenant's customers from `simptu.<slug>.inbound`, books
and changes appointments, classes and rooms with the tenant's data, and streams its replies to
`simptu.<slug>.outbound`. `python -m simptu.runtime.agent --tenant SLUG` (or `--all`)."""
