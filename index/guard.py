"""Refuse to switch the live index to a policy text that looks cut off or emptied.

A text truncated mid-article still parses, and a running bot reloads whatever `build`
switches to within seconds: it would lose its contact window and part of its clauses
without anyone deciding so. The checks use only what any parse of the text offers (the
contact address, the revision date, the clause ids), so they hold whatever the parser does.
"""
from __future__ import annotations

from typing import Sequence

from index.policy import Clause, Policy

ACCEPT_FLAG = "--accept-removals"

# A revision rewords clauses, adds items or drops an article now and then; each article is a
# small share of the citable units. Losing more than a fifth of the live units in one build is
# what a text cut off or half pasted looks like, so it takes the maintainer's explicit word.
REMOVED_SHARE_LIMIT = 0.20


class UnsafeSwitchError(ValueError):
    """The new text would remove what the bot relies on; the message names the override flag."""

    def __init__(self, problems: Sequence[str], policy_path: str):
        self.problems = tuple(problems)
        super().__init__(
            f"not switching the index to {policy_path}: {'; '.join(self.problems)}. Is the text cut off? "
            f"The live index stays in use: fix the text and run `policybot build` again, or run "
            f"`policybot build {ACCEPT_FLAG}` if this is intended")


def switch_problems(new: Policy, live_clauses: Sequence[Clause] | None) -> list[str]:
    """Why `new` must not replace the live index without an explicit override (empty: it may)."""
    problems = []
    if not new.contact_email:
        problems.append("it names no contact e-mail address (the contact window escalations go to)")
    if new.revision_date is None:
        problems.append("it has no revision date (the 制定日/改定日 lines at its end)")
    if live_clauses:
        kept = {clause.id for clause in new.clauses()}
        removed = [clause for clause in live_clauses if clause.id not in kept]
        if len(removed) > REMOVED_SHARE_LIMIT * len(live_clauses):
            problems.append(f"it removes {len(removed)} of the live index's {len(live_clauses)} clauses "
                            f"({len(removed) / len(live_clauses):.0%}, more than {REMOVED_SHARE_LIMIT:.0%}; "
                            f"first removed: {removed[0].label})")
    return problems


def check_switch(new: Policy, live_clauses: Sequence[Clause] | None, policy_path: str) -> None:
    """Raise UnsafeSwitchError when `switch_problems` finds any."""
    problems = switch_problems(new, live_clauses)
    if problems:
        raise UnsafeSwitchError(problems, policy_path)
