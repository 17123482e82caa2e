"""The names, locks and priorities of CalSync's jobs — one place, so the deferring web process
and the workers always agree.

- `lock` (procrastinate): jobs sharing one never run at the same time, and run in order;
- `queueing_lock`: at most one such job waits in the queue; deferring another is refused
  (`AlreadyEnqueued`), which is how a burst of commits becomes one push and a burst of
  notifications one pull;
- priority: a higher one is fetched first and is not held up by a lower one of the same lock that
  waits for a later slot (a scheduled pull queued for its slot never delays a webhook follow-up).
"""

from __future__ import annotations

PUSH_TASK = "calsync.push"
PULL_TASK = "calsync.pull"
TICK_TASK = "calsync.tick"
SUBSCRIPTIONS_TASK = "calsync.subscriptions"
HELD_DELETIONS_TASK = "calsync.held_deletions"
PRUNE_TASK = "calsync.prune_sync_log"

PUSH_LOCK = "push"
PUSH_QUEUEING_LOCK = "push"
# A failed push waits for its backoff under another queueing lock, so a new commit still pushes
# at once instead of joining the retry's wait.
PUSH_RETRY_QUEUEING_LOCK = "push-retry"
TICK_LOCK = "tick"
SUBSCRIPTIONS_LOCK = "subscriptions"
PRUNE_LOCK = "prune"
# Once a day, at a quiet hour (UTC); a worker that was down then prunes at the next day's slot.
PRUNE_CRON = "17 3 * * *"
PRUNE_PRIORITY = 0

TICK_PRIORITY = 30
PUSH_PRIORITY = 20
FOLLOW_UP_PRIORITY = 10
SUBSCRIPTIONS_PRIORITY = 5
SCHEDULED_PRIORITY = 0

# Why a pull was asked for; scheduled pulls queue under their own queueing lock, the others
# (a change notification, "sync now", a rerun for invitations waiting) under the follow-up one.
SCHEDULED = "scheduled"
NOTIFICATION = "notification"
SYNC_NOW = "sync_now"
DEFERRED = "deferred"
PULL_REASONS = (SCHEDULED, NOTIFICATION, SYNC_NOW, DEFERRED)


def mailbox_lock(mailbox: str) -> str:
    return f"mailbox:{mailbox}"


def pull_queueing_lock(mailbox: str, reason: str) -> str:
    kind = "pull" if reason == SCHEDULED else "follow-up"
    return f"{kind}:{mailbox}"
