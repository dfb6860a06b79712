"""The domain rules, one file each: plain functions and SQL predicates, no commits, no request.

Services and views ask these; none of them re-derives a rule. Imports run one way:
``admin`` → ``services`` → ``rules`` → ``models`` → (``context``, ``i18n``, ``extensions``).
"""
