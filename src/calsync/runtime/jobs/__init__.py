"""`calsync.runtime.jobs`: the sync on many machines — procrastinate jobs over PostgreSQL.

| module | job |
| --- | --- |
| `settings` | `CALSYNC_RUNTIME` (in-process or jobs), tick and heartbeat, PostgreSQL required |
| `connection` | the CRM's SQLAlchemy URL as a libpq conninfo |
| `schema` | procrastinate's tables installed or upgraded at start, idempotently |
| `names` | task names, locks, queueing locks and priorities |
| `dispatch` | `JobDispatcher`: defers pushes, pulls and the subscription check |
| `scheduling` | which mailboxes' scheduled pulls to queue, for which slot |
| `locks` | PostgreSQL advisory locks: no mailbox pulled twice at once, no push beside a pull |
| `tasks` | the jobs: push, pull, tick (scheduling + dead workers' jobs), subscriptions |
| `services` | what a worker's jobs share |
| `runtimes` | `WorkerRuntime` (a worker's engine) and `DeferringRuntime` (`calsync serve`) |
| `app` | the procrastinate `App` with the tasks registered |
| `worker` | `run_worker`: one `calsync worker` process |
| `frontend` | the runtime `calsync serve` hosts in jobs mode |

docs/runtime.md ("Many machines") describes setup and behaviour.
"""
