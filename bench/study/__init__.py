"""The pairwise preference study: plan, storage, web app, export, demo.

A study directory holds ``plan.json`` (who judges which pair, in which order, on which side; with its
seed), ``secrets.json`` (rater and admin tokens, the HMAC key of the opaque ids; mode 0600),
``votes.sqlite`` (one row per judgment, WAL mode) and ``manifest.json``. ``motive-bench study
create|serve|export|demo`` (:mod:`bench.commands.study`) drive it.
"""
