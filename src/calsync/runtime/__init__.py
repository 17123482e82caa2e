"""`calsync.runtime`: the sync service that makes the engine run on time, by itself.

| module | job |
| --- | --- |
| `errors` | `SyncServiceError` and its coded refusals (`sync_not_enabled` …) |
| `secrets` | `SecretBox`: the tenant's secrets sealed at rest with Fernet |
| `connection` | `TenantConnection` (what an admin enters), `GraphEndpoints` (where Graph is) |
| `enablement` | enable (token request + test call, then save), disable, `require_enabled` |
| `commit_signal` | wakes the push worker when a transaction that changed events commits |
| `schedule` | when each mailbox's pull is due: its own offset within the run period |
| `locks` | never two pulls of one mailbox at once |
| `engine_port` | the small interface the runtime needs from the sync engine |
| `service` | `SyncRuntime`: push worker + scheduler + "sync now" in one process |
| `webhooks` | one Graph subscription per synced mailbox: created, renewed, adopted, removed |
| `receiver` | the webhook endpoints: validation handshake, notifications → debounced pulls |
| `lifespan` | starts a `SyncRuntime` with the web app (`calsync serve`) |
| `logs` | structured logs (key=value text or JSON lines) |
| `status` | per-mailbox state and the sync log, for the API and `calsync status` |
| `metrics` | the Prometheus metrics served at `/metrics` |
| `embedded` | the embedded Microsoft 365 emulator of `calsync demo` |

docs/runtime.md describes the behaviour and the decisions.
"""
