"""The policy and retrieval: policy text → clauses (`policy.py`) → index (`build.py`, `store.py`)
→ ranked clauses with their signals (`search.py`). Nothing here knows about Slack or settings.
"""
